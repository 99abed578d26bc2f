import { tenantDataSuite } from "../suites/tenant-data.suite";
import { onWorkerBackends } from "./backends";

onWorkerBackends((h) => tenantDataSuite(h));
