import { passkeysSuite } from "../suites/passkeys.suite";
import { onWorkerBackends } from "./backends";

onWorkerBackends((h) => passkeysSuite(h));
