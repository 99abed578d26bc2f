import { tenantsSuite } from "../suites/tenants.suite";
import { onNodeBackends } from "../support/node-backends";

onNodeBackends((h) => tenantsSuite(h));
