#!/usr/bin/env bash
# Starts local Postgres and Redis when they are not already answering (the commands this
# machine image uses), then waits until both accept connections. Fails if either never does.
set -uo pipefail

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! up 5432; then
  echo "services: starting PostgreSQL"
  if command -v pg_ctlcluster >/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
fi
if ! up 6379; then
  echo "services: starting Redis"
  if command -v redis-server >/dev/null; then
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  fi
fi

for name_port in postgres:5432 redis:6379; do
  name=${name_port%%:*} port=${name_port##*:}
  for _ in $(seq 1 30); do up "$port" && break; sleep 1; done
  if up "$port"; then echo "services: $name up on $port"; else echo "services: $name is not reachable on $port" >&2; exit 1; fi
done

# Browser tests drive Debian's Chromium (headless) through playwright-core.
if ! command -v chromium >/dev/null; then
  echo "services: installing Debian's chromium for the browser tests"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null || { echo "services: chromium install failed" >&2; exit 1; }
fi
echo "services: $(chromium --version 2>/dev/null | head -n1)"
