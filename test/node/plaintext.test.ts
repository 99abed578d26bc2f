import { plaintextSuite } from "../suites/plaintext.suite";
import { onNodeBackends } from "../support/node-backends";

onNodeBackends((h) => plaintextSuite(h));
