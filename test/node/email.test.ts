import { emailSuite } from "../suites/email.suite";
import { onNodeBackends } from "../support/node-backends";

onNodeBackends((h) => emailSuite(h));
