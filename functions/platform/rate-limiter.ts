import type { Database } from "../../db/database";
import type { Config } from "../config";
import { createSqlRateLimiter } from "../ratelimit/sql";
import type { RateLimiter } from "../ratelimit/types";
import { createUpstashRateLimiter } from "../ratelimit/upstash";

/**
 * Chooses the rate-limit store from configuration: one Upstash limiter shared by every request
 * of the isolate/process (it holds only configuration), or the SQL store on each request's database.
 */
export function rateLimiterFactory(config: Config, now?: () => number): (db: Database) => RateLimiter {
  if (config.rateLimitStore === "upstash" && config.upstash) {
    const shared = createUpstashRateLimiter({ ...config.upstash, timeoutMs: config.rateLimitTimeoutMs });
    return () => shared;
  }
  return (db) => createSqlRateLimiter(db, now);
}
