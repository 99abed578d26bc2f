import { identitySuite } from "../suites/identity.suite";
import { onD1 } from "./d1";

onD1((h) => identitySuite(h));
