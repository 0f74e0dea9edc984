# Quarry's operator verbs. Each is a thin call into the CLI (`npm run cli -- …`), the
# dev process supervisor, or docker compose when COMPOSE=1.
SHELL := /usr/bin/env bash
NODE_PATH_PREFIX := $(shell bash .tooling/ensure-node.sh 2>/dev/null)
export PATH := $(NODE_PATH_PREFIX):$(PATH)
CLI := node dist/apps/cli/src/main.js
COMPOSE ?=

.DEFAULT_GOAL := help
include docker/compose.mk

.PHONY: help install build dev demo test lint bench migrate

help: ## list the verbs
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sort | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

install: ## npm ci with the project's Node 24
	npm ci --no-audit --no-fund

build: ## compile every app to dist/
	npm run build

dev: ## start the whole system on this machine (PostgreSQL, Redis, Qdrant emulator, api, worker)
	bash .tooling/dev.sh

demo: ## with `make dev` running: upload the sample documents and follow them
	node dist/apps/cli/src/main.js demo

# The suite runs make itself (docker/test): it must not inherit this make's level and flags.
test: ## every test, with Node 24, fresh dependencies and PostgreSQL and Redis up
	@bash .tooling/ensure-deps.sh
	@bash .tooling/ensure-services.sh
	env -u MAKELEVEL -u MAKEFLAGS -u MFLAGS npm test

lint: ## ESLint and Prettier
	npm run lint && npm run format:check

bench: ## every benchmark; results under bench/results/
	npm run bench

migrate: ## apply pending database migrations
	$(CLI) migrate

# ------------------------------------------------------------------ operator verbs
# On this machine the process verbs act on api, worker and the Qdrant emulator through
# the pid files under .run/ (written by `make up`/`make start` and by `make dev`); with
# COMPOSE=1 they act on the docker compose services. The data verbs call the cli, which
# reads DATABASE_URL, REDIS_URL and QDRANT_URL (development defaults when unset), so the
# same verbs serve a cluster from a shell that has its URLs.
PROCS := bash .tooling/procs.sh
ifeq ($(COMPOSE),1)
# the image is read-only: reindex keeps its checkpoint on the /tmp tmpfs of the run
OPS_CLI := $(QUARRY_COMPOSE) run --rm --no-deps -T -e QUARRY_STATE_DIR=/tmp/quarry migrate node dist/apps/cli/src/main.js
else
OPS_CLI := $(CLI)
endif
QUEUE ?=
OLDER_THAN ?= 1h
GRACE ?= 30s
OUT ?=
DIR ?=
FILE ?=
# YES=1 skips the typed confirmation of reset-soft/reset-hard; FORCE=1 restores over data.
YES ?=
FORCE ?=
DRY_RUN ?=
JSON ?=
json_flag = $(if $(JSON),--json)

.PHONY: up down start stop restart ps logs logs-error clean-logs pause unpause safe-stop \
	safe-start check-data check-data-fix reset-stuck-jobs clean-orphans check-jobs reset-soft \
	reset-hard backup-all restore db-backup db-restore db-shell reindex models-pull

ifeq ($(COMPOSE),1)
up: compose-up
down: compose-down
start: compose-start
stop: compose-stop
restart: compose-restart
ps: compose-ps
logs: compose-logs
logs-error: compose-logs-error
clean-logs:
	@echo "compose keeps logs in the docker logging driver; configure its max-size to rotate them"
else
up: ## start everything (build if needed, migrate, api, worker; COMPOSE=1: docker compose)
	@bash .tooling/ensure-services.sh
	@[ -f dist/apps/api/src/main.js ] || npm run build
	$(CLI) migrate
	$(PROCS) start
down: ## stop and remove everything (data stays)
	$(PROCS) stop
start: ## start the stopped processes
	$(PROCS) start
stop: ## stop the processes (SIGTERM; each drains within its grace)
	$(PROCS) stop
restart: ## stop, then start
	$(PROCS) restart
ps: ## the processes and their state
	@$(PROCS) ps
logs: ## follow the logs (FOLLOW=0 on this machine prints and exits)
	@$(PROCS) logs
logs-error: ## error and fatal log lines
	@$(PROCS) logs-error
clean-logs: ## empty the process logs (compose: rotate with the logging driver instead)
	@$(PROCS) clean-logs
endif

pause: ## pause the queues (QUEUE=ingest|cleanup|maintenance, default all); uploads are still accepted
	$(OPS_CLI) pause $(QUEUE) $(json_flag)

unpause: ## resume the paused queues (QUEUE=… as for pause)
	$(OPS_CLI) resume $(QUEUE) $(json_flag)

ifeq ($(COMPOSE),1)
safe-stop:
	$(OPS_CLI) safe-stop --grace $(GRACE) --no-processes $(json_flag)
	$(MAKE) compose-stop SERVICES="api worker"
safe-start:
	$(MAKE) compose-start
	$(OPS_CLI) safe-start $(json_flag)
else
safe-stop: ## pause, wait for active jobs (GRACE=30s), hand back the rest, then stop the processes
	$(OPS_CLI) safe-stop --grace $(GRACE) $(json_flag)
safe-start: ## reset stuck jobs, resume the queues, re-enqueue pending documents, start the processes
	$(OPS_CLI) safe-start $(json_flag)
	$(PROCS) start
endif

check-data: ## integrity report; exit 0 healthy, 1 warning, 2 critical (JSON=1 for scripts)
	$(OPS_CLI) check-data $(json_flag)

check-data-fix: ## repair what check-data finds, then check again
	$(OPS_CLI) check-data --fix $(json_flag)

reset-stuck-jobs: ## documents processing without a heartbeat for OLDER_THAN (1h) back to pending
	$(OPS_CLI) reset-stuck-jobs --older-than $(OLDER_THAN) $(json_flag)

clean-orphans: ## delete Qdrant points with no current chunk (DRY_RUN=1 only counts)
	$(OPS_CLI) clean-orphans $(if $(DRY_RUN),--dry-run) $(json_flag)

check-jobs: ## per queue: waiting, active, delayed, failed, paused, oldest; documents per status
	$(OPS_CLI) check-jobs $(json_flag)

reset-soft: ## remove documents, chunks, points, jobs and caches; keep collections and API keys (YES=1)
	$(OPS_CLI) reset-soft $(if $(YES),--yes) $(json_flag)

reset-hard: ## remove everything but the schema, collections and API keys included (YES=1)
	$(OPS_CLI) reset-hard $(if $(YES),--yes) $(json_flag)

backup-all: ## consistent backup (pg_dump + Qdrant snapshot + manifest) into OUT (default backups/quarry-<time>)
	$(OPS_CLI) backup $(if $(OUT),--out $(OUT)) --grace $(GRACE) $(json_flag)

restore: ## restore a backup-all directory: make restore DIR=backups/quarry-… [FORCE=1]
	@[ -n "$(DIR)" ] || { echo "usage: make restore DIR=<backup directory> [FORCE=1]" >&2; exit 2; }
	$(OPS_CLI) restore $(DIR) $(if $(FORCE),--force) $(json_flag)

ifeq ($(COMPOSE),1)
# The app image carries no PostgreSQL client: dump and restore inside the postgres container.
db-backup:
	@mkdir -p backups
	$(QUARRY_COMPOSE) exec -T postgres pg_dump -U quarry --format=custom --no-owner quarry > $(or $(FILE),backups/quarry-$(shell date -u +%Y%m%dT%H%M%SZ).dump)
db-restore:
	@[ -n "$(FILE)" ] || { echo "usage: make db-restore FILE=<dump file> FORCE=1" >&2; exit 2; }
	@[ -n "$(FORCE)" ] || { echo "db-restore with COMPOSE=1 replaces the database: add FORCE=1" >&2; exit 2; }
	$(QUARRY_COMPOSE) exec -T postgres pg_restore -U quarry --clean --if-exists --no-owner --single-transaction --exit-on-error -d quarry < $(FILE)
else
db-backup: ## pg_dump of PostgreSQL alone into FILE (default backups/<db>-<time>.dump)
	$(OPS_CLI) db-backup $(FILE) $(json_flag)

db-restore: ## pg_restore FILE into PostgreSQL: make db-restore FILE=… [FORCE=1]
	@[ -n "$(FILE)" ] || { echo "usage: make db-restore FILE=<dump file> [FORCE=1]" >&2; exit 2; }
	$(OPS_CLI) db-restore $(FILE) $(if $(FORCE),--force) $(json_flag)

endif

ifeq ($(COMPOSE),1)
db-shell:
	$(QUARRY_COMPOSE) exec postgres psql -U quarry quarry
else
db-shell: ## psql on the database
	psql "$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/quarry}"
endif

reindex: ## rebuild the Qdrant points from PostgreSQL (COLLECTION=<id>, RESUME=1)
	$(OPS_CLI) reindex $(if $(COLLECTION),--collection $(COLLECTION)) $(if $(RESUME),--resume) $(json_flag)

# On this machine even with COMPOSE=1: the image is read-only (bake a model with the
# BAKE_EMBEDDING_MODEL build argument instead, docker/README.md).
models-pull: ## download a model folder for EMBEDDING_PROVIDER=local (ID=<hugging-face-id>, QUANTIZED=1, DIR=<dir>)
	$(CLI) models pull $(ID) $(if $(QUANTIZED),--quantized) $(if $(DIR),--dir $(DIR)) $(json_flag)
