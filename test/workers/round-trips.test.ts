import { roundTripsSuite } from "../suites/round-trips.suite";
import { onWorkerBackends } from "./backends";

onWorkerBackends((h) => roundTripsSuite(h));
