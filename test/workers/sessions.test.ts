import { sessionsSuite } from "../suites/sessions.suite";
import { onD1 } from "./d1";

onD1((h) => sessionsSuite(h));
