import { afterAll } from "vitest";
import { webhookDeliverySuite, webhookRoutesSuite } from "../suites/webhooks.suite";
import { onNodeBackends } from "../support/node-backends";
import { startWebhookReceiver } from "../support/webhook-receiver";

const receiver = await startWebhookReceiver();
afterAll(() => receiver.stop());

onNodeBackends((h) => webhookRoutesSuite(h));
// Development allows loopback receivers; a short timeout keeps the timeout test quick.
onNodeBackends((h) => webhookDeliverySuite(h, () => receiver), {
  env: { APP_ENV: "development" },
  config: { webhooks: { timeoutMs: 500, retryBaseMs: 30_000, retryWindowMs: 24 * 3600_000 } },
});
