/**
 * `npm run db:sweep`: deletes expired rows (db/sweep.ts) from DATABASE_URL. On Workers the cron
 * trigger does this hourly; Node and Lambda deployments run this script from their scheduler.
 */
import { neonConfig } from "@neondatabase/serverless";
import ws from "ws";
import { sweepExpired } from "../db/sweep";
import { databaseOpener } from "../functions/platform/database-url";

// Node 20 has no global WebSocket; the Neon driver needs one.
neonConfig.webSocketConstructor = ws;

/** A retention in days from the environment (the same variables as the app's configuration), in ms. */
function retentionMs(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return undefined;
  if (!/^[1-9]\d*$/.test(raw)) {
    console.error(`db:sweep: ${name} must be a whole number of days`);
    process.exit(1);
  }
  return Number(raw) * 24 * 60 * 60 * 1000;
}

const options = {
  outboxRetentionMs: retentionMs("OUTBOX_RETENTION_DAYS"),
  securityEventRetentionMs: retentionMs("SECURITY_EVENT_RETENTION_DAYS"),
  consentRetentionMs: retentionMs("CONSENT_RETENTION_DAYS"),
};

const url = process.env.DATABASE_URL;
if (!url) {
  console.error("db:sweep: set DATABASE_URL (postgres://…, libsql://… or file:…)");
  process.exit(1);
}
const database = databaseOpener(url, {
  perRequest: true,
  driver: process.env.DATABASE_DRIVER, // as the entries: unset, the host decides
  ...(process.env.DATABASE_AUTH_TOKEN ? { authToken: process.env.DATABASE_AUTH_TOKEN } : {}),
})();
try {
  console.log(JSON.stringify({ msg: "sweep", ...(await sweepExpired(database, new Date(), options)) }));
} catch (error) {
  // Never print the error message's SQL parameters or the URL.
  console.error(`db:sweep: failed (${(error as Error).name})`);
  process.exitCode = 1;
} finally {
  await database.close();
}
