import type { EnvironmentVariables, NodeEnv } from './environment-variables';

type Defaults = { [K in keyof EnvironmentVariables]?: EnvironmentVariables[K] };

const common: Defaults = {
  PORT: 3000,
  WORKER_HTTP_PORT: 3001,
  LOG_LEVEL: 'info',
  LOG_PRETTY: false,
  DB_POOL_MIN: 0,
  DB_POOL_IDLE_TIMEOUT_MS: 10_000,
  DB_POOL_ACQUIRE_TIMEOUT_MS: 5_000,
  DB_POOL_MAX_LIFETIME_S: 1_800,
  DB_STATEMENT_TIMEOUT_MS: 60_000,
  DB_TRANSACTION_TIMEOUT_MS: 30_000,
  DB_SLOW_QUERY_MS: 1_000,
  DB_MIGRATIONS_RUN: false,
  QUEUE_PREFIX: 'quarry',
  QDRANT_COLLECTION: 'quarry_chunks',
  QDRANT_TIMEOUT_MS: 10_000,
  EMBEDDING_PROVIDER: 'hashing',
  EMBEDDING_MODEL: 'hashing-v1',
  EMBEDDING_DIM: 384,
  EMBEDDING_BATCH_SIZE: 64,
  EMBEDDING_TIMEOUT_MS: 30_000,
  EMBEDDING_THREADS: 1,
  CHUNK_SIZE: 1000,
  CHUNK_OVERLAP: 150,
  UPLOAD_MAX_BYTES: 50 * 1024 * 1024,
  WORKER_CONCURRENCY: 4,
  INGEST_MAX_ATTEMPTS: 5,
  WORKER_LOCK_DURATION_MS: 60_000,
  CLEANUP_MAX_ATTEMPTS: 8,
  RECONCILE_INTERVAL_MS: 60_000,
  STALE_HEARTBEAT_MS: 120_000,
  TOMBSTONE_RETENTION_DAYS: 7,
  SHUTDOWN_GRACE_MS: 30_000,
  API_KEY_CACHE_TTL_MS: 5_000,
};

/** Local services on a development machine; production must name its own. */
const local: Defaults = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/quarry',
  REDIS_URL: 'redis://127.0.0.1:6379',
  QDRANT_URL: 'http://127.0.0.1:6333',
};

const byEnv: Record<NodeEnv, Defaults> = {
  development: { ...common, ...local, DB_POOL_MAX: 10, LOG_PRETTY: true, LOG_LEVEL: 'debug' },
  test: {
    ...common,
    ...local,
    DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/quarry_test',
    DB_POOL_MAX: 10,
    LOG_LEVEL: 'warn',
  },
  production: { ...common, DB_POOL_MAX: 20 },
};

export function defaultsFor(env: NodeEnv): Defaults {
  return { ...byEnv[env] };
}
