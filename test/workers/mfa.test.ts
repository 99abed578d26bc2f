import { mfaSuite } from "../suites/mfa.suite";
import { onD1 } from "./d1";

onD1((h) => mfaSuite(h));
