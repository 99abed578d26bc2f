import { tenantsSuite } from "../suites/tenants.suite";
import { onD1 } from "./d1";

onD1((h) => tenantsSuite(h));
