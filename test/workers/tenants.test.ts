import { tenantsSuite } from "../suites/tenants.suite";
import { onWorkerBackends } from "./backends";

onWorkerBackends((h) => tenantsSuite(h));
