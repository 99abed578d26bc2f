import { passkeysSuite } from "../suites/passkeys.suite";
import { onNodeBackends } from "../support/node-backends";

onNodeBackends((h) => passkeysSuite(h));
