import { platformSuite } from "../suites/platform.suite";
import { onD1 } from "./d1";

onD1((h) => platformSuite(h));
