/**
 * `npm run outbox:dispatch`: one outbox dispatch pass (functions/outbox/dispatch.ts) and one
 * webhook dispatch pass (functions/webhooks/dispatch.ts) over DATABASE_URL, for Node deployments' system scheduler (every minute, say). It sends the
 * messages that are due: retries whose backoff has passed, and messages whose after-response
 * send never finished (a restart, a dispatcher that died holding a claim). Reads the same
 * environment as the server (ENCRYPTION_KEYS opens the payloads; MAIL_* picks the transport).
 * Prints one JSON line of counts; exits 1 if the pass failed or there is no transport.
 */
import { neonConfig } from "@neondatabase/serverless";
import ws from "ws";
import { loadConfig } from "../functions/config";
import { createSecretBox, parseKeyring } from "../functions/lib/secret-box";
import { nodemailerTransport } from "../functions/mail/smtp-node";
import { dispatchDue } from "../functions/outbox/dispatch";
import { PERIODIC_DISPATCH_LIMIT } from "../functions/outbox/periodic";
import { databaseOpener } from "../functions/platform/database-url";
import { mailTransportFor } from "../functions/platform/mail";
import { resolveHostNode } from "../functions/platform/resolve-node";
import { dispatchWebhooks } from "../functions/webhooks/dispatch";

// Node 20 has no global WebSocket; the Neon driver needs one.
neonConfig.webSocketConstructor = ws;

const url = process.env.DATABASE_URL;
if (!url) {
  console.error("outbox:dispatch: set DATABASE_URL (postgres://…, libsql://… or file:…)");
  process.exit(1);
}
let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(process.env);
} catch (error) {
  // loadConfig's message names the variable, never its value.
  console.error(`outbox:dispatch: ${(error as Error).message}`);
  process.exit(1);
}
const transport = mailTransportFor(config, "node", nodemailerTransport);
const database = databaseOpener(url, {
  perRequest: true,
  driver: process.env.DATABASE_DRIVER, // as the entries: unset, the host decides
  ...(process.env.DATABASE_AUTH_TOKEN ? { authToken: process.env.DATABASE_AUTH_TOKEN } : {}),
})();
try {
  const result = await dispatchDue(database, {
    transport,
    box: createSecretBox(parseKeyring(config.encryptionKeys)),
    config,
    now: () => new Date(),
    limit: PERIODIC_DISPATCH_LIMIT,
    // Per-message failures: id, kind, attempt and reason only.
    log: (line) => console.error(JSON.stringify(line)),
  });
  console.log(JSON.stringify({ msg: "outbox dispatch", ...result }));
  const webhooks = await dispatchWebhooks(database, {
    box: createSecretBox(parseKeyring(config.encryptionKeys)),
    config,
    now: () => new Date(),
    limit: PERIODIC_DISPATCH_LIMIT,
    resolveHost: resolveHostNode,
    // Per-delivery failures: ids, attempt, status code and reason only.
    log: (line) => console.error(JSON.stringify(line)),
  });
  console.log(JSON.stringify({ msg: "webhook dispatch", ...webhooks }));
} catch (error) {
  // Never print the error message's SQL parameters or the URL.
  console.error(`outbox:dispatch: failed (${(error as Error).name})`);
  process.exitCode = 1;
} finally {
  await database.close();
}
