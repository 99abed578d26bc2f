import { hardeningSuite } from "../suites/hardening.suite";
import { onD1 } from "./d1";

onD1((h) => hardeningSuite(h));
