/**
 * Cloudflare Workers entry (`wrangler dev`, `wrangler deploy`). Database: DATABASE_URL when set
 * (Neon Postgres, or libSQL over HTTP), else the D1 binding `DB` (platform/worker.ts).
 */

import { sweepExpired } from "../db/sweep";
import { type App, createApp } from "./app";
import { type WorkerEnv, workerDatabaseOpener, workerDeps } from "./platform/worker";

export type { WorkerEnv } from "./platform/worker";

/** Builds the app for a Workers environment (once per isolate). */
export function createWorkerApp(env: WorkerEnv): App {
  return createApp(workerDeps(env));
}

let app: App | undefined;

export default {
  fetch(request, env, ctx) {
    app ??= createWorkerApp(env);
    return app.fetch(request, env, ctx);
  },
  /** Cron trigger (wrangler.toml `[triggers]`): deletes expired rows (db/sweep.ts). */
  async scheduled(controller, env, ctx) {
    const database = workerDatabaseOpener(env)();
    try {
      const removed = await sweepExpired(database, new Date(controller.scheduledTime));
      console.log(JSON.stringify({ level: "info", msg: "sweep", ...removed }));
    } finally {
      ctx.waitUntil(database.close());
    }
  },
} satisfies ExportedHandler<WorkerEnv>;
