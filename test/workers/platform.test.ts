import { platformSuite } from "../suites/platform.suite";
import { onWorkerBackends } from "./backends";

onWorkerBackends((h) => platformSuite(h));
