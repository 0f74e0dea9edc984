# Sourced by dev.sh and procs.sh: the environment of the processes on this machine, with
# the embedded development defaults unless the caller's environment says otherwise.
RUN_DIR="${RUN_DIR:-.run}"
LOG_DIR="${LOG_DIR:-$RUN_DIR/logs}"
export RUN_DIR LOG_DIR
export NODE_ENV="${NODE_ENV:-development}"
export PORT="${PORT:-3000}"
export WORKER_HTTP_PORT="${WORKER_HTTP_PORT:-3001}"
export METRICS_PORT="${METRICS_PORT:-3002}"
export LOG_PRETTY="${LOG_PRETTY:-true}"
export LOG_LEVEL="${LOG_LEVEL:-info}"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/quarry}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
# Development only (refused when NODE_ENV=production): a key that works at once.
export QUARRY_DEV_API_KEY="${QUARRY_DEV_API_KEY:-quarry-dev-key-change-me}"
QDRANT_EMULATOR_PORT="${QDRANT_EMULATOR_PORT:-6333}"
QDRANT_STORAGE="${QDRANT_STORAGE:-.data/qdrant}"
mkdir -p "$RUN_DIR" "$LOG_DIR" .data
