import { sessionsSuite } from "../suites/sessions.suite";
import { onNodeBackends } from "../support/node-backends";

onNodeBackends((h) => sessionsSuite(h));
