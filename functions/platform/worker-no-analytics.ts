/**
 * What `@upstash/core-analytics` is in the Worker bundle (wrangler.toml `[alias]`): @upstash/
 * ratelimit imports it for its optional analytics, which this service turns off
 * (`analytics: false` in functions/ratelimit/upstash.ts: per-identifier records in Redis would be
 * a second copy of who signs in from where). So it is never constructed; if it were, it fails
 * loudly instead of writing analytics.
 */
export class Analytics {
  constructor() {
    throw new Error("rate-limit analytics are off (functions/ratelimit/upstash.ts)");
  }
}
