#!/usr/bin/env bash
# Starts the machine's PostgreSQL and Redis when they are not answering, and installs
# what the tests need from Debian when it is missing: chromium (the dashboard's browser
# test) and the servers the e2e tests start themselves (PgBouncer, Redis Sentinel). Used
# by CI, `make test` and `make dev`; a DATABASE_URL/REDIS_URL pointing elsewhere is left
# alone by the callers.
set -euo pipefail

# Debian packages the e2e suite starts itself (servers on spare ports, the browser;
# playwright-core downloads none): skipped when already present.
missing=()
[ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer)
command -v redis-sentinel >/dev/null 2>&1 || missing+=(redis-sentinel)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]}" >&2
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
  # The packages start system-wide services we do not use; the tests start their own.
  for service in pgbouncer redis-sentinel; do
    service "$service" stop >/dev/null 2>&1 || true
  done
fi

pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if ! pg_up; then
  echo "starting PostgreSQL" >&2
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  pg_up || { echo "PostgreSQL did not start" >&2; exit 1; }
fi

if ! redis_up; then
  echo "starting Redis" >&2
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 30); do redis_up && break; sleep 1; done
  redis_up || { echo "Redis did not start" >&2; exit 1; }
fi
echo "PostgreSQL and Redis are up" >&2
