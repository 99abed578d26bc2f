import { identitySuite } from "../suites/identity.suite";
import { onWorkerBackends } from "./backends";

onWorkerBackends((h) => identitySuite(h));
