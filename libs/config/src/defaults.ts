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
  DB_PREPARED_STATEMENTS: true,
  QUEUE_PREFIX: 'quarry',
  REDIS_SENTINEL_NAME: 'mymaster',
  QDRANT_COLLECTION: 'quarry_chunks',
  QDRANT_TIMEOUT_MS: 10_000,
  QDRANT_QUANTIZATION: 'none',
  QDRANT_WRITE_ORDERING: 'medium',
  EMBEDDING_PROVIDER: 'hashing',
  EMBEDDING_MODEL: 'hashing-v1',
  EMBEDDING_DIM: 384,
  EMBEDDING_BATCH_SIZE: 64,
  EMBEDDING_TIMEOUT_MS: 30_000,
  EMBEDDING_THREADS: 1,
  CHUNK_SIZE: 1000,
  CHUNK_OVERLAP: 150,
  UPLOAD_MAX_BYTES: 50 * 1024 * 1024,
  EXTRACT_THREADS: 2,
  EXTRACT_TIMEOUT_MS: 120_000,
  EXTRACT_MAX_HEAP_MB: 512,
  EXTRACT_MAX_PAGES: 2_000,
  EXTRACT_MAX_CHARS: 5_000_000,
  EXTRACT_MAX_CHUNKS: 10_000,
  DOCX_MAX_UNCOMPRESSED_BYTES: 100 * 1024 * 1024,
  DOCX_MAX_RATIO: 100,
  DOCX_MAX_ENTRIES: 2_000,
  UPLOAD_INFLIGHT_MAX_BYTES: 128 * 1024 * 1024,
  METRICS_PORT: 3002,
  JSON_BODY_MAX_BYTES: 1024 * 1024,
  JSON_MAX_DEPTH: 32,
  HTTP_HEADERS_TIMEOUT_MS: 20_000,
  HTTP_REQUEST_TIMEOUT_MS: 300_000,
  HTTP_KEEP_ALIVE_TIMEOUT_MS: 65_000,
  RATE_LIMIT_UPLOADS_PER_MIN: 600,
  RATE_LIMIT_SEARCHES_PER_MIN: 1200,
  RATE_LIMIT_AUTH_FAILURES_PER_MIN: 30,
  UPLOAD_MAX_CONCURRENT_PER_KEY: 8,
  SSE_MAX_STREAMS_PER_KEY: 50,
  SSE_MAX_STREAM_MS: 600_000,
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
    // Tests run many apis side by side: any free port.
    METRICS_PORT: 0,
  },
  production: { ...common, DB_POOL_MAX: 20 },
};

export function defaultsFor(env: NodeEnv): Defaults {
  return { ...byEnv[env] };
}
