import { webhookRoutesSuite } from "../suites/webhooks.suite";
import { onWorkerBackends } from "./backends";

onWorkerBackends((h) => webhookRoutesSuite(h));
