import { mfaSuite } from "../suites/mfa.suite";
import { onWorkerBackends } from "./backends";

onWorkerBackends((h) => mfaSuite(h));
