#!/usr/bin/env bash
# Smoke test of a deployed API: /healthz answers, then /readyz reports the database and the
# rate-limit store up (waits up to SMOKE_TIMEOUT seconds, default 90: a new Neon compute and a
# fresh Worker version take a moment). Usage: scripts/ci/smoke.sh https://…
set -euo pipefail
base=${1:?usage: smoke.sh <base-url>}
base=${base%/}
deadline=$((SECONDS + ${SMOKE_TIMEOUT:-90}))

until curl -fsS --max-time 10 "$base/healthz" >/dev/null; do
  [ "$SECONDS" -lt "$deadline" ] || { echo "smoke: $base/healthz never answered 200" >&2; exit 1; }
  sleep 3
done
while :; do
  body=$(curl -sS --max-time 15 -w '\n%{http_code}' "$base/readyz" || true)
  status=${body##*$'\n'}
  [ "$status" = "200" ] && { echo "smoke: $base is ready"; exit 0; }
  if [ "$SECONDS" -ge "$deadline" ]; then
    # The readiness answer names failing checks only, never a secret: safe to print.
    echo "smoke: $base/readyz answered ${status:-nothing}: ${body%$'\n'*}" >&2
    exit 1
  fi
  sleep 3
done
