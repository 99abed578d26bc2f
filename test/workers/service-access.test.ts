import { serviceAccessSuite } from "../suites/service-access.suite";
import { onD1 } from "./d1";

onD1((h) => serviceAccessSuite(h));
