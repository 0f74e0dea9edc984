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

test: ## the test suite against the real PostgreSQL and Redis
	npm test

lint: ## ESLint and Prettier
	npm run lint && npm run format:check

bench: ## every benchmark; results under bench/results/
	npm run bench

migrate: ## apply pending database migrations
	$(CLI) migrate
