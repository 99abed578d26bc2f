# Helpers sourced by scripts/ci/*.sh. Not executable on its own.

# Fails with a clear message when any of the named variables is empty.
require_env() {
  local missing=()
  for name in "$@"; do [ -n "${!name:-}" ] || missing+=("$name"); done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "$(basename "$0"): missing environment: ${missing[*]}" >&2
    exit 1
  fi
}

# Hides a value in GitHub Actions logs from here on (no-op elsewhere). Call it before the value
# could be printed by anything.
mask() {
  if [ "${GITHUB_ACTIONS:-}" = "true" ] && [ -n "$1" ]; then echo "::add-mask::$1"; fi
}

# Appends name=value to the step outputs in GitHub Actions (no-op elsewhere).
output() {
  if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "$1=$2" >>"$GITHUB_OUTPUT"; fi
}

# Wrangler from the lockfile, offline-friendly: no telemetry.
wrangler() {
  WRANGLER_SEND_METRICS=false node node_modules/wrangler/bin/wrangler.js "$@"
}
