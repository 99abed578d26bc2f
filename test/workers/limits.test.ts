import { limitsSuite } from "../suites/limits.suite";
import { onD1 } from "./d1";

onD1((h) => limitsSuite(h));
