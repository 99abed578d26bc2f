import { roundTripsSuite } from "../suites/round-trips.suite";
import { onNodeBackends } from "../support/node-backends";

onNodeBackends((h) => roundTripsSuite(h));
