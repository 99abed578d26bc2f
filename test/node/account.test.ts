import { accountSuite } from "../suites/account.suite";
import { onNodeBackends } from "../support/node-backends";

onNodeBackends((h) => accountSuite(h));
