import { limitsSuite } from "../suites/limits.suite";
import { onNodeBackends } from "../support/node-backends";

onNodeBackends((h) => limitsSuite(h));
