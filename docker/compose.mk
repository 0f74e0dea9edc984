# Compose verbs for the operator Makefile (included by it; dispatched to when COMPOSE=1).
# Every target is a thin call into `docker compose` on docker/compose.yml.
#
#   make -f docker/compose.mk compose-up WORKERS=4
#   make -f docker/compose.mk compose-logs SERVICES="api worker"

# Included near the top of another Makefile, these targets must not become its default goal.
QUARRY_COMPOSE_PREVIOUS_GOAL := $(.DEFAULT_GOAL)

QUARRY_COMPOSE_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
QUARRY_COMPOSE_FILE ?= $(QUARRY_COMPOSE_DIR)/compose.yml
QUARRY_COMPOSE_PROJECT ?= quarry
DOCKER_COMPOSE ?= docker compose
QUARRY_COMPOSE = $(DOCKER_COMPOSE) -p $(QUARRY_COMPOSE_PROJECT) -f $(QUARRY_COMPOSE_FILE)

# Optional: which services a verb acts on (all when empty) and the worker fleet size.
SERVICES ?=
WORKERS ?= 1
LOG_TAIL ?= 200

.PHONY: compose-up compose-down compose-stop compose-start compose-pause compose-unpause \
	compose-ps compose-logs compose-logs-error compose-restart

compose-up:
	$(QUARRY_COMPOSE) up -d --build --remove-orphans --scale worker=$(WORKERS) $(SERVICES)

# Keeps the volumes: data survives a down/up. Remove them by hand with `down -v`.
compose-down:
	$(QUARRY_COMPOSE) down --remove-orphans

compose-stop:
	$(QUARRY_COMPOSE) stop $(SERVICES)

compose-start:
	$(QUARRY_COMPOSE) start $(SERVICES)

compose-pause:
	$(QUARRY_COMPOSE) pause $(SERVICES)

compose-unpause:
	$(QUARRY_COMPOSE) unpause $(SERVICES)

compose-ps:
	$(QUARRY_COMPOSE) ps --all $(SERVICES)

compose-logs:
	$(QUARRY_COMPOSE) logs --tail=$(LOG_TAIL) --follow $(SERVICES)

# pino writes level 50 for error and 60 for fatal; plain-text lines are matched too.
compose-logs-error:
	$(QUARRY_COMPOSE) logs --no-color --tail=$(LOG_TAIL) $(SERVICES) | grep -E '"level":(50|60)|\b(ERROR|FATAL)\b' || true

compose-restart:
	$(QUARRY_COMPOSE) restart $(SERVICES)

.DEFAULT_GOAL := $(QUARRY_COMPOSE_PREVIOUS_GOAL)
