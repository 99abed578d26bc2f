import { hardeningSuite } from "../suites/hardening.suite";
import { onWorkerBackends } from "./backends";

onWorkerBackends((h) => hardeningSuite(h));
