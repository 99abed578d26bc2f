import { authzSuite } from "../suites/authz.suite";
import { onWorkerBackends } from "./backends";

onWorkerBackends((h) => authzSuite(h));
