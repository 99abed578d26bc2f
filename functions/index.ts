/**
 * Cloudflare Workers entry (`wrangler dev`, `wrangler deploy`). Database: DATABASE_URL when set
 * (Neon Postgres only), else the D1 binding `DB` (platform/worker-database.ts).
 *
 * The bundle (`npm run build`, budget in scripts/build.mjs) holds only what Workers run: no
 * libSQL, Nodemailer or Swagger UI, and no OpenAPI generator: wrangler.toml aliases
 * @hono/zod-openapi to platform/worker-openapi.ts (plain Hono routing) and the document is a
 * static asset built with the bundle (public/openapi.json).
 *
 * Mail: a request's queued messages are sent in `ctx.waitUntil` after its response (the
 * request-context middleware); the cron trigger runs the periodic pass (sweep, then the outbox
 * messages the requests could not send: functions/outbox/periodic.ts).
 */

import { type App, createApp } from "./app";
import type { Config } from "./config";
import type { AppDeps } from "./context";
import { createSecretBox, parseKeyring } from "./lib/secret-box";
import type { MailTransport } from "./mail/types";
import { runPeriodicPass } from "./outbox/periodic";
import { mailTransportFor } from "./platform/mail";
import { type WorkerEnv, workerDatabaseOpener, workerDeps } from "./platform/worker";

export type { WorkerEnv } from "./platform/worker";

export interface WorkerOptions {
  /** The mail transport for an environment (default: the configured one, functions/outbox/transport.ts). */
  mailTransport?: (config: Config, env: WorkerEnv) => MailTransport | undefined;
}

const log = (line: Record<string, unknown>) => console.log(JSON.stringify(line));

function depsFor(env: WorkerEnv, options: WorkerOptions): AppDeps {
  const deps = workerDeps(env);
  const transport = (options.mailTransport ?? ((config) => mailTransportFor(config, "workers")))(
    deps.config,
    env,
  );
  return { ...deps, ...(transport ? { mailTransport: transport } : {}) };
}

/** Builds the app for a Workers environment (once per isolate). */
export function createWorkerApp(env: WorkerEnv, options: WorkerOptions = {}): App {
  return createApp(depsFor(env, options));
}

/** The handlers the Worker exports. */
export type WorkerHandlers = Required<Pick<ExportedHandler<WorkerEnv>, "fetch" | "scheduled">>;

/**
 * The Worker's handlers. The default export is `createWorker()`; tests build one with their own
 * transport. The app, its configuration and keys are built once per isolate, on first use.
 */
export function createWorker(options: WorkerOptions = {}): WorkerHandlers {
  let deps: AppDeps | undefined;
  let app: App | undefined;
  const depsOf = (env: WorkerEnv) => {
    deps ??= depsFor(env, options);
    return deps;
  };
  return {
    fetch(request, env, ctx) {
      app ??= createApp(depsOf(env));
      return app.fetch(request, env, ctx);
    },
    /** Cron trigger (wrangler.toml `[triggers]`): the periodic pass (sweep and outbox dispatch). */
    async scheduled(controller, env, ctx) {
      const { config, mailTransport } = depsOf(env);
      const database = workerDatabaseOpener(env)();
      try {
        const scheduledAt = controller.scheduledTime;
        const started = Date.now();
        await runPeriodicPass(database, {
          config,
          box: createSecretBox(parseKeyring(config.encryptionKeys)),
          transport: mailTransport,
          // The scheduled time, moved on by the time the pass has taken.
          now: () => new Date(scheduledAt + (Date.now() - started)),
          log,
        });
      } finally {
        ctx.waitUntil(database.close());
      }
    },
  };
}

export default createWorker();
