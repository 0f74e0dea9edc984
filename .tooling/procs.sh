#!/usr/bin/env bash
# The process verbs on this machine (`make start|stop|restart|ps|logs|logs-error|clean-logs`):
# api, worker and the Qdrant emulator as detached processes with pid files under $RUN_DIR
# and logs under $RUN_DIR/logs. The same pid files are written by `make dev`, so these
# verbs act on its processes too.
#
#   procs.sh start [name...]   start what is not running (qdrant only when QDRANT_URL is unset)
#   procs.sh stop [name...]    SIGTERM in order api → worker → qdrant, SIGKILL after STOP_TIMEOUT
#   procs.sh restart [name...]
#   procs.sh ps                name, pid, state, uptime, log
#   procs.sh logs [name...]    tail (FOLLOW=0 to print and exit; LOG_TAIL lines)
#   procs.sh logs-error        error and fatal lines of every log
#   procs.sh clean-logs        empty the logs (running processes keep appending)
set -euo pipefail
cd "$(dirname "$0")/.."
source .tooling/dev-env.sh
STOP_TIMEOUT="${STOP_TIMEOUT:-45}"
READY_TIMEOUT="${READY_TIMEOUT:-60}"
LOG_TAIL="${LOG_TAIL:-200}"
FOLLOW="${FOLLOW:-1}"
ALL=(qdrant api worker)
STOP_ORDER=(api worker qdrant)

pid_of() { [ -f "$RUN_DIR/$1.pid" ] && cat "$RUN_DIR/$1.pid" || true; }
running() { local pid; pid="$(pid_of "$1")"; [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }

command_of() {
  case "$1" in
    qdrant) echo "node dist/apps/qdrant-emulator/src/main.js --port $QDRANT_EMULATOR_PORT --storage $QDRANT_STORAGE" ;;
    api) echo "node dist/apps/api/src/main.js" ;;
    worker) echo "node dist/apps/worker/src/main.js" ;;
    *) echo "unknown process: $1 (expected qdrant, api or worker)" >&2; return 2 ;;
  esac
}

# The emulator is ours only when no QDRANT_URL was given (or it points at the emulator we run).
manages_qdrant() { [ -z "${QDRANT_URL:-}" ] || running qdrant; }

wait_http() { # url, seconds
  for _ in $(seq 1 $(($2 * 5))); do curl -sf "$1" >/dev/null 2>&1 && return 0; sleep 0.2; done
  return 1
}

start_one() {
  local name="$1" cmd
  cmd="$(command_of "$name")"
  if running "$name"; then echo "$name: already running (pid $(pid_of "$name"))"; return 0; fi
  # shellcheck disable=SC2086
  setsid nohup $cmd >>"$LOG_DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN_DIR/$name.pid"
  echo "$name: started (pid $!, log $LOG_DIR/$name.log)"
}

start() {
  local names=("$@"); [ ${#names[@]} -gt 0 ] || names=("${ALL[@]}")
  [ -f dist/apps/api/src/main.js ] || { echo "dist/ is missing: run make build (or make up)" >&2; exit 1; }
  for name in "${names[@]}"; do
    if [ "$name" = qdrant ] && ! manages_qdrant; then
      echo "qdrant: QDRANT_URL=$QDRANT_URL is given, not starting the emulator"; continue
    fi
    start_one "$name"
    if [ "$name" = qdrant ] && running qdrant; then
      export QDRANT_URL="http://127.0.0.1:$QDRANT_EMULATOR_PORT"
      wait_http "$QDRANT_URL/readyz" 10 || echo "qdrant: not ready after 10 s (see $LOG_DIR/qdrant.log)" >&2
    fi
  done
  if [[ " ${names[*]} " == *" api "* ]] && running api; then
    wait_http "http://127.0.0.1:$PORT/health/ready" "$READY_TIMEOUT" && echo "api: ready on http://127.0.0.1:$PORT" \
      || echo "api: not ready after $READY_TIMEOUT s (see $LOG_DIR/api.log)" >&2
  fi
}

stop() {
  local names=("$@") order=()
  if [ ${#names[@]} -eq 0 ]; then order=("${STOP_ORDER[@]}"); else
    for n in "${STOP_ORDER[@]}"; do [[ " ${names[*]} " == *" $n "* ]] && order+=("$n"); done
  fi
  for name in "${order[@]}"; do
    local pid; pid="$(pid_of "$name")"
    if [ -z "$pid" ]; then continue; fi
    if ! kill -0 "$pid" 2>/dev/null; then echo "$name: not running"; rm -f "$RUN_DIR/$name.pid"; continue; fi
    kill -TERM "$pid"
    local waited=0
    while kill -0 "$pid" 2>/dev/null && [ $waited -lt $((STOP_TIMEOUT * 5)) ]; do sleep 0.2; waited=$((waited + 1)); done
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
      echo "$name: killed after ${STOP_TIMEOUT}s (pid $pid)"
    else
      echo "$name: stopped (pid $pid)"
    fi
    rm -f "$RUN_DIR/$name.pid"
  done
}

ps_all() {
  printf '%-8s %-8s %-8s %-12s %s\n' NAME PID STATE UPTIME LOG
  for name in "${ALL[@]}"; do
    local pid state uptime
    pid="$(pid_of "$name")"
    if [ -z "$pid" ]; then state=stopped; pid=-; uptime=-
    elif kill -0 "$pid" 2>/dev/null; then state=running; uptime="$(ps -o etime= -p "$pid" | tr -d ' ')"
    else state=dead; uptime=-; fi
    printf '%-8s %-8s %-8s %-12s %s\n' "$name" "$pid" "$state" "$uptime" "$LOG_DIR/$name.log"
  done
}

logs() {
  local names=("$@") files=(); [ ${#names[@]} -gt 0 ] || names=("${ALL[@]}")
  for name in "${names[@]}"; do [ -f "$LOG_DIR/$name.log" ] && files+=("$LOG_DIR/$name.log"); done
  [ ${#files[@]} -gt 0 ] || { echo "no logs under $LOG_DIR"; return 0; }
  if [ "$FOLLOW" = 1 ]; then tail -n "$LOG_TAIL" -F "${files[@]}"; else tail -n "$LOG_TAIL" "${files[@]}"; fi
}

# pino writes level 50 for error and 60 for fatal; pretty and plain lines are matched too.
logs_error() {
  local found=0
  for file in "$LOG_DIR"/*.log; do
    [ -f "$file" ] || continue
    grep -HE '"level":(50|60)|\b(ERROR|FATAL)\b' "$file" | tail -n "$LOG_TAIL" && found=1 || true
  done
  [ $found = 1 ] || echo "no error lines under $LOG_DIR"
}

clean_logs() {
  for file in "$LOG_DIR"/*.log "$LOG_DIR"/*.log.*; do
    [ -f "$file" ] || continue
    case "$file" in *.log) : >"$file" ;; *) rm -f "$file" ;; esac
    echo "emptied $file"
  done
}

verb="${1:-ps}"; shift || true
case "$verb" in
  start) start "$@" ;;
  stop) stop "$@" ;;
  restart) stop "$@"; start "$@" ;;
  ps) ps_all ;;
  logs) logs "$@" ;;
  logs-error) logs_error ;;
  clean-logs) clean_logs ;;
  *) echo "usage: procs.sh start|stop|restart|ps|logs|logs-error|clean-logs [name...]" >&2; exit 2 ;;
esac
