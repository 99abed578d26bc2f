import { authzSuite } from "../suites/authz.suite";
import { onD1 } from "./d1";

onD1((h) => authzSuite(h));
