import { roundTripsSuite } from "../suites/round-trips.suite";
import { onD1 } from "./d1";

onD1((h) => roundTripsSuite(h));
