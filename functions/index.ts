/**
 * Cloudflare Workers entry (`wrangler dev`, `wrangler deploy`). Database: DATABASE_URL when set
 * (Neon Postgres, or libSQL over HTTP), else the D1 binding `DB` (platform/worker.ts).
 */

import { type App, createApp } from "./app";
import { type WorkerEnv, workerDeps } from "./platform/worker";

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
} satisfies ExportedHandler<WorkerEnv>;
