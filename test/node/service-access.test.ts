import { serviceAccessSuite } from "../suites/service-access.suite";
import { onNodeBackends } from "../support/node-backends";

onNodeBackends((h) => serviceAccessSuite(h));
