import { webhookRoutesSuite } from "../suites/webhooks.suite";
import { onD1 } from "./d1";

onD1((h) => webhookRoutesSuite(h));
