import { accountSuite } from "../suites/account.suite";
import { onD1 } from "./d1";

onD1((h) => accountSuite(h));
