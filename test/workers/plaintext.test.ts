import { plaintextSuite } from "../suites/plaintext.suite";
import { onD1 } from "./d1";

onD1((h) => plaintextSuite(h));
