import { mfaSuite } from "../suites/mfa.suite";
import { onNodeBackends } from "../support/node-backends";

onNodeBackends((h) => mfaSuite(h));
