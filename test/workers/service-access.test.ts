import { serviceAccessSuite } from "../suites/service-access.suite";
import { onWorkerBackends } from "./backends";

onWorkerBackends((h) => serviceAccessSuite(h));
