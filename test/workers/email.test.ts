import { emailSuite } from "../suites/email.suite";
import { onD1 } from "./d1";

onD1((h) => emailSuite(h));
