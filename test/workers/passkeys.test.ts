import { passkeysSuite } from "../suites/passkeys.suite";
import { onD1 } from "./d1";

onD1((h) => passkeysSuite(h));
