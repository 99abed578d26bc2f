import { identitySuite } from "../suites/identity.suite";
import { onNodeBackends } from "../support/node-backends";

onNodeBackends((h) => identitySuite(h));
