#!/usr/bin/env bash
# Removes what a closed pull request's preview left behind: its Neon branch preview/pr-<n>.
# The Worker version and its pr-<n> alias are left in the preview Worker's history; without the
# branch, the alias answers 503 on every route that needs the database.
# Env: PR_NUMBER, NEON_API_KEY, NEON_PROJECT_ID.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/ci/lib.sh

require_env PR_NUMBER NEON_API_KEY NEON_PROJECT_ID
[[ "$PR_NUMBER" =~ ^[0-9]+$ ]] || { echo "cleanup-preview: PR_NUMBER must be a number" >&2; exit 1; }
node scripts/ci/neon-branch.mjs delete "preview/pr-${PR_NUMBER}"
