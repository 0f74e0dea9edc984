#!/usr/bin/env bash
# `make dev`: the whole system on this machine with its embedded defaults, in one
# terminal. Uses the machine's PostgreSQL and Redis (starting them when down) unless
# DATABASE_URL / REDIS_URL point elsewhere, starts the Qdrant emulator unless QDRANT_URL
# is set, migrates, starts api and worker, and stops everything on Ctrl+C.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$(bash .tooling/ensure-node.sh):$PATH"

source .tooling/dev-env.sh

bash .tooling/ensure-deps.sh
[ -f dist/apps/api/src/main.js ] && [ -z "${REBUILD:-}" ] && [ -z "$(find apps libs -name '*.ts' -newer dist/apps/api/src/main.js -print -quit)" ] || npm run build

case "$DATABASE_URL$REDIS_URL" in
  *127.0.0.1*|*localhost*) bash .tooling/ensure-services.sh ;;
esac

db_name="$(node -e 'console.log(new URL(process.argv[1]).pathname.slice(1))' "$DATABASE_URL")"
admin_url="$(node -e 'const u=new URL(process.argv[1]); u.pathname="/postgres"; console.log(u.toString())' "$DATABASE_URL")"
if ! psql "$admin_url" -Atc "SELECT 1 FROM pg_database WHERE datname = '$db_name'" | grep -q 1; then
  echo "creating database $db_name"
  psql "$admin_url" -qc "CREATE DATABASE \"$db_name\""
fi

pids=()
stop_all() {
  trap - INT TERM EXIT
  echo; echo "stopping…"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -f "$RUN_DIR"/*.pid
  echo "stopped."
}
trap stop_all INT TERM EXIT

start() { # name, command...
  local name="$1"; shift
  # Process substitution keeps $! the process itself (not a pipeline's subshell), so
  # the signal on stop reaches it, also from `make stop` / `make safe-stop` in another
  # terminal. The output also goes to $LOG_DIR/<name>.log for `make logs` / `logs-error`.
  "$@" > >(tee -a "$LOG_DIR/$name.log" | sed -u "s/^/[$name] /") 2>&1 &
  local pid=$!
  pids+=("$pid")
  echo "$pid" > "$RUN_DIR/$name.pid"
}

if [ -z "${QDRANT_URL:-}" ]; then
  export QDRANT_URL="http://127.0.0.1:$QDRANT_EMULATOR_PORT"
  start qdrant node dist/apps/qdrant-emulator/src/main.js --port "$QDRANT_EMULATOR_PORT" --storage "$QDRANT_STORAGE"
  for _ in $(seq 1 50); do curl -sf "$QDRANT_URL/readyz" >/dev/null && break; sleep 0.2; done
fi

node dist/apps/cli/src/main.js migrate
start api node dist/apps/api/src/main.js
start worker node dist/apps/worker/src/main.js

for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null && break; sleep 0.2; done
cat <<INFO

  Quarry is running.
    API          http://127.0.0.1:$PORT/v1
    OpenAPI      http://127.0.0.1:$PORT/docs
    Dashboard    http://127.0.0.1:$PORT/admin/queues
    Health       http://127.0.0.1:$PORT/health/ready   (worker: http://127.0.0.1:$WORKER_HTTP_PORT/health/ready)
    Metrics      http://127.0.0.1:$METRICS_PORT/metrics   (worker: http://127.0.0.1:$WORKER_HTTP_PORT/metrics)
    Qdrant       $QDRANT_URL
    API key      $QUARRY_DEV_API_KEY   (development only)

  Try:  curl -H "Authorization: Bearer $QUARRY_DEV_API_KEY" http://127.0.0.1:$PORT/v1/collections
  Ctrl+C stops everything.

INFO
wait -n "${pids[@]}" || true
echo "a process exited; stopping the rest"
