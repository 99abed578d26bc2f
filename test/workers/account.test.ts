import { accountSuite } from "../suites/account.suite";
import { onWorkerBackends } from "./backends";

onWorkerBackends((h) => accountSuite(h));
