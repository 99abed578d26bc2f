import { tenantDataSuite } from "../suites/tenant-data.suite";
import { onNodeBackends } from "../support/node-backends";

onNodeBackends((h) => tenantDataSuite(h));
