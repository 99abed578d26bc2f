import { emailSuite } from "../suites/email.suite";
import { onWorkerBackends } from "./backends";

onWorkerBackends((h) => emailSuite(h));
