import { limitsSuite } from "../suites/limits.suite";
import { onWorkerBackends } from "./backends";

onWorkerBackends((h) => limitsSuite(h));
