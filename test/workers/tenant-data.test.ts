import { tenantDataSuite } from "../suites/tenant-data.suite";
import { onD1 } from "./d1";

onD1((h) => tenantDataSuite(h));
