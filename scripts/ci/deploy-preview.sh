#!/usr/bin/env bash
# Deploys the preview of one pull request:
#   1. find or create the Neon branch preview/pr-<n> (scripts/ci/neon-branch.mjs);
#   2. apply the migrations to it (direct connection string);
#   3. upload a Worker version of the `preview` environment under the alias pr-<n>, with its
#      secrets (the branch's pooled connection string and the preview keys) in the same upload;
#   4. smoke-test the alias URL and print it (and set the step output `url` on GitHub).
# Re-running it for the same PR reuses the branch and moves the alias to the new version.
#
# Env: PR_NUMBER; NEON_API_KEY, NEON_PROJECT_ID (+ optional NEON_* of neon-branch.mjs);
# CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID; the preview's IP_HASH_KEY, ENCRYPTION_KEYS,
# UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN. SKIP_SMOKE=1 skips step 4.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/ci/lib.sh

require_env PR_NUMBER NEON_API_KEY NEON_PROJECT_ID CLOUDFLARE_API_TOKEN CLOUDFLARE_ACCOUNT_ID \
  IP_HASH_KEY ENCRYPTION_KEYS UPSTASH_REDIS_REST_URL UPSTASH_REDIS_REST_TOKEN
[[ "$PR_NUMBER" =~ ^[0-9]+$ ]] || { echo "deploy-preview: PR_NUMBER must be a number" >&2; exit 1; }

alias="pr-${PR_NUMBER}"
branch="preview/${alias}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

node scripts/ci/neon-branch.mjs create "$branch" >/dev/null
direct=$(node scripts/ci/neon-branch.mjs uri "$branch")
mask "$direct"
pooled=$(node scripts/ci/neon-branch.mjs uri "$branch" --pooled)
mask "$pooled"

# Migrations over the direct host, not the pooler (docs/rollout.md).
DATABASE_URL="$direct" npm run --silent db:migrate

# Secrets travel in a private temp file, never on a command line (visible in `ps`).
(
  umask 077
  DATABASE_URL="$pooled" node -e '
    const names = ["DATABASE_URL", "IP_HASH_KEY", "ENCRYPTION_KEYS", "UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN"];
    process.stdout.write(JSON.stringify(Object.fromEntries(names.map((n) => [n, process.env[n]]))));
  ' >"$work/secrets.json"
)

sha=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
WRANGLER_OUTPUT_FILE_PATH="$work/wrangler.ndjson" wrangler versions upload --env preview \
  --preview-alias "$alias" --secrets-file "$work/secrets.json" --message "PR #${PR_NUMBER} at ${sha}"

url=$(node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean);
  const upload = lines.map((l) => JSON.parse(l)).find((e) => e.type === "version-upload") ?? {};
  process.stdout.write(upload.preview_alias_url ?? upload.preview_url ?? "");
' "$work/wrangler.ndjson")
if [ -z "$url" ]; then
  echo "deploy-preview: no preview URL (is a workers.dev subdomain set up for the account?)" >&2
  exit 1
fi

[ "${SKIP_SMOKE:-}" = "1" ] || bash scripts/ci/smoke.sh "$url"
output url "$url"
echo "$url"
