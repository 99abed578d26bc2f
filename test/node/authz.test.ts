import { authzSuite } from "../suites/authz.suite";
import { onNodeBackends } from "../support/node-backends";

onNodeBackends((h) => authzSuite(h));
