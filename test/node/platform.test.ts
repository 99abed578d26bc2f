import { platformSuite } from "../suites/platform.suite";
import { onNodeBackends } from "../support/node-backends";

onNodeBackends((h) => platformSuite(h));
