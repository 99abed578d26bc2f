/**
 * The SQL rate-limit store on libSQL and Postgres: several checks counted in one statement, the
 * previous window weighed per bucket, refused checks not counted, refunds.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSqlRateLimiter } from "../../functions/ratelimit/sql";
import type { RateRule } from "../../functions/ratelimit/types";
import {
  type Backend,
  NODE_BACKENDS,
  onPostgres,
  openNodeBackend,
  PG_HOST,
  PG_PORT,
  tcpReachable,
} from "../support/backends";
import { skipWithout } from "../support/services";

const postgresUp = await tcpReachable(PG_HOST, PG_PORT);
const WINDOW = 60_000;
const rule = (name: string, limit: number): RateRule => ({
  name: `${name}-${crypto.randomUUID()}`,
  limit,
  windowMs: WINDOW,
});

for (const name of NODE_BACKENDS) {
  describe.skipIf(onPostgres(name) && skipWithout("Postgres", postgresUp))(
    `SQL rate limiter [${name}]`,
    () => {
      let backend: Backend;
      beforeAll(async () => {
        backend = await openNodeBackend(name);
      });
      afterAll(async () => {
        await backend?.close();
      });

      it("counts every check of a call in one statement, each against its own limit", async () => {
        const db = backend.open();
        const limiter = createSqlRateLimiter(db, () => 10 * WINDOW + 1);
        const [a, b] = [rule("a", 1), rule("b", 3)];
        const checks = [
          { rule: a, identifier: "x" },
          { rule: b, identifier: "x" },
        ];
        expect((await limiter.limit(checks)).map((r) => r.allowed)).toEqual([true, true]);
        expect(db.stats.statements).toBe(1);
        const second = await limiter.limit(checks);
        expect(second.map((r) => r.allowed)).toEqual([false, true]);
        // Refused and taken back in one more statement.
        expect(db.stats.statements).toBe(3);
        expect(second[1]!.remaining).toBe(1);
      });

      it("weighs each bucket's previous window, and only its own", async () => {
        let now = 20 * WINDOW + 100;
        const limiter = createSqlRateLimiter(backend.open(), () => now);
        const [busy, idle] = [rule("busy", 5), rule("idle", 5)];
        for (let i = 0; i < 5; i++) await limiter.limit([{ rule: busy, identifier: "u" }]);
        // At the window boundary all of the previous window still counts.
        now = 21 * WINDOW;
        const results = await limiter.limit([
          { rule: busy, identifier: "u" },
          { rule: idle, identifier: "u" },
        ]);
        expect(results.map((r) => r.allowed)).toEqual([false, true]);
        // Two windows later the old hits no longer count.
        now = 23 * WINDOW + 100;
        expect((await limiter.limit([{ rule: busy, identifier: "u" }]))[0]!.allowed).toBe(true);
      });

      it("gives back refunded attempts", async () => {
        const limiter = createSqlRateLimiter(backend.open(), () => 30 * WINDOW + 1);
        const check = { rule: rule("r", 2), identifier: "x" };
        await limiter.limit([check]);
        await limiter.limit([check]);
        expect((await limiter.limit([check]))[0]!.allowed).toBe(false);
        await limiter.refund([check]);
        expect((await limiter.limit([check]))[0]!.allowed).toBe(true);
      });

      it("lets exactly `limit` of 50 racing attempts through", async () => {
        const check = { rule: rule("race", 7), identifier: "x" };
        const results = await Promise.all(
          Array.from({ length: 50 }, () =>
            createSqlRateLimiter(backend.open(), () => 40 * WINDOW + 1).limit([check]),
          ),
        );
        expect(results.filter(([r]) => r!.allowed)).toHaveLength(7);
      });
    },
  );
}
