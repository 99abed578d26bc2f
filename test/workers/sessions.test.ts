import { sessionsSuite } from "../suites/sessions.suite";
import { onWorkerBackends } from "./backends";

onWorkerBackends((h) => sessionsSuite(h));
