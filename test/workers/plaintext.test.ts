import { plaintextSuite } from "../suites/plaintext.suite";
import { onWorkerBackends } from "./backends";

onWorkerBackends((h) => plaintextSuite(h));
