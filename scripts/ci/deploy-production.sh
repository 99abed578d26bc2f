#!/usr/bin/env bash
# Deploys main to production: checks that the Worker has every secret it needs, applies the
# migrations to the production database, then `wrangler deploy --env production`, then a smoke
# test when PRODUCTION_URL is set. Migrations go first, so every migration must keep the code
# that is still running working (expand, deploy, contract: docs/rollout.md).
#
# Env: DATABASE_URL (production, direct host: for migrations only; the Worker's own
# DATABASE_URL is a Worker secret), CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID; optional
# PRODUCTION_URL (e.g. https://api.example.com).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/ci/lib.sh

require_env DATABASE_URL CLOUDFLARE_API_TOKEN CLOUDFLARE_ACCOUNT_ID
mask "$DATABASE_URL"

# Production secrets are set by an operator (`wrangler secret put … --env production`), never by
# CI; refuse to deploy a Worker that would fail on its first request for lack of one.
secrets=$(wrangler secret list --env production --format json)
missing=$(SECRETS="$secrets" node -e '
  const have = new Set(JSON.parse(process.env.SECRETS).map((s) => s.name));
  const need = ["DATABASE_URL", "IP_HASH_KEY", "ENCRYPTION_KEYS", "UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN"];
  process.stdout.write(need.filter((n) => !have.has(n)).join(" "));
')
if [ -n "$missing" ]; then
  echo "deploy-production: the production Worker lacks secrets: $missing (docs/deploy.md)" >&2
  exit 1
fi

npm run --silent db:migrate

sha=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
wrangler deploy --env production --message "main at ${sha}"

if [ -n "${PRODUCTION_URL:-}" ]; then bash scripts/ci/smoke.sh "$PRODUCTION_URL"; fi
