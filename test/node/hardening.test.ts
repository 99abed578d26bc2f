import { hardeningSuite } from "../suites/hardening.suite";
import { onNodeBackends } from "../support/node-backends";

onNodeBackends((h) => hardeningSuite(h));
