import { basename } from 'node:path';
import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { defaultsFor } from './defaults';
import {
  EnvironmentKey,
  EnvironmentVariables,
  NODE_ENVS,
  NodeEnv,
  parseHostPortList,
  SECRET_KEYS,
} from './environment-variables';
import { AppName, QuarryConfig } from './quarry-config';

export type ConfigOverrides = { [K in EnvironmentKey]?: EnvironmentVariables[K] | string };

export interface LoadConfigOptions {
  app: AppName;
  /** Explicit options: win over the environment. */
  overrides?: ConfigOverrides;
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
}

/** A configuration that cannot start: the message names the variable and the rule. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

const KNOWN_KEYS = Object.keys(defaultsFor('development')).concat(
  'NODE_ENV',
  'DATABASE_READ_URL',
  'QDRANT_API_KEY',
  'EMBEDDING_BASE_URL',
  'EMBEDDING_API_KEY',
  'EMBEDDING_MODEL_PATH',
  'EMBEDDING_POOLING',
  'EMBEDDING_QUERY_PREFIX',
  'EMBEDDING_PASSAGE_PREFIX',
  'EMBEDDING_MAX_TOKENS',
  'SEARCH_SEMANTIC_WEIGHT',
  'SEARCH_KEYWORD_WEIGHT',
  'QUARRY_DEV_API_KEY',
  'BULL_BOARD_USER',
  'BULL_BOARD_PASSWORD',
  'UPLOAD_TMP_DIR',
  'QDRANT_URL',
  'DATABASE_URL',
  'REDIS_URL',
  'REDIS_SENTINELS',
  'REDIS_SENTINEL_PASSWORD',
  'REDIS_USERNAME',
  'REDIS_PASSWORD',
  'REDIS_TLS_CA_FILE',
  'QDRANT_SHARD_NUMBER',
  'QDRANT_REPLICATION_FACTOR',
  'QDRANT_WRITE_CONSISTENCY_FACTOR',
  'QDRANT_ON_DISK_VECTORS',
  'QDRANT_ON_DISK_PAYLOAD',
  'QDRANT_HNSW_M',
  'QDRANT_HNSW_EF_CONSTRUCT',
) as EnvironmentKey[];

/** The dashboard password docker/compose.yml used to default to, and its spellings. */
const DEFAULT_DASHBOARD_PASSWORDS = ['change-me', 'changeme'];

/** Precedence: explicit options > environment > defaults for NODE_ENV. */
export function loadConfig(options: LoadConfigOptions): QuarryConfig {
  const env = options.env ?? process.env;
  const overrides = options.overrides ?? {};
  const nodeEnv = (overrides.NODE_ENV ?? nonEmpty(env.NODE_ENV) ?? 'development') as string;
  if (!(NODE_ENVS as readonly string[]).includes(nodeEnv)) {
    throw new ConfigError([
      `NODE_ENV must be one of ${NODE_ENVS.join(', ')} (got ${JSON.stringify(nodeEnv)})`,
    ]);
  }

  const raw: Record<string, unknown> = { ...defaultsFor(nodeEnv as NodeEnv) };
  for (const key of new Set(KNOWN_KEYS)) {
    const value = nonEmpty(env[key]);
    if (value !== undefined) raw[key] = value;
  }
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined) raw[key] = value;
  }
  raw.NODE_ENV = nodeEnv;
  // A local model is named after its folder unless EMBEDDING_MODEL says otherwise.
  const modelGiven = overrides.EMBEDDING_MODEL ?? nonEmpty(env.EMBEDDING_MODEL);
  if (
    raw.EMBEDDING_PROVIDER === 'local' &&
    !modelGiven &&
    typeof raw.EMBEDDING_MODEL_PATH === 'string'
  ) {
    raw.EMBEDDING_MODEL =
      basename(raw.EMBEDDING_MODEL_PATH.replace(/(?<![/\\])[/\\]+$/, '')) || 'local';
  }

  const vars = plainToInstance(EnvironmentVariables, raw);
  const errors = validateSync(vars, { skipMissingProperties: false, forbidUnknownValues: false });
  const problems = errors.flatMap((e) => describe(e, raw));
  problems.push(...crossChecks(vars));
  if (problems.length > 0) throw new ConfigError(problems);
  return toTree(vars, options.app);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

function describe(error: ValidationError, raw: Record<string, unknown>): string[] {
  const key = error.property as EnvironmentKey;
  const given = raw[key];
  const shown =
    given === undefined
      ? 'not set'
      : SECRET_KEYS.includes(key) || key.endsWith('_URL')
        ? `got ${JSON.stringify(maskSecret(String(given)))}`
        : `got ${JSON.stringify(given)}`;
  const constraints = error.constraints ?? {};
  // "abc" for a number breaks every numeric rule; naming the type is the useful part.
  const rules =
    constraints.isInt && typeof given === 'string' && Number.isNaN(Number(given))
      ? [constraints.isInt]
      : Object.values(constraints);
  return [`${key}: ${rules.join(', ')} (${shown})`];
}

function crossChecks(vars: EnvironmentVariables): string[] {
  const problems: string[] = [];
  if (vars.DB_POOL_MIN > vars.DB_POOL_MAX) {
    problems.push(
      `DB_POOL_MIN (${vars.DB_POOL_MIN}) must not exceed DB_POOL_MAX (${vars.DB_POOL_MAX})`,
    );
  }
  if (vars.CHUNK_OVERLAP * 2 > vars.CHUNK_SIZE) {
    problems.push(
      `CHUNK_OVERLAP (${vars.CHUNK_OVERLAP}) must be at most half of CHUNK_SIZE (${vars.CHUNK_SIZE})`,
    );
  }
  if (vars.EMBEDDING_PROVIDER === 'openai' && !vars.EMBEDDING_BASE_URL) {
    problems.push('EMBEDDING_BASE_URL must be set when EMBEDDING_PROVIDER=openai');
  }
  if (vars.EMBEDDING_PROVIDER === 'local' && !vars.EMBEDDING_MODEL_PATH) {
    problems.push(
      'EMBEDDING_MODEL_PATH must be set when EMBEDDING_PROVIDER=local (a model folder with config.json, tokenizer.json and onnx/model.onnx)',
    );
  }
  if (vars.NODE_ENV === 'production' && vars.QUARRY_DEV_API_KEY) {
    problems.push(
      'QUARRY_DEV_API_KEY is for development only and is refused when NODE_ENV=production',
    );
  }
  if (
    vars.NODE_ENV === 'production' &&
    vars.BULL_BOARD_PASSWORD &&
    DEFAULT_DASHBOARD_PASSWORDS.includes(vars.BULL_BOARD_PASSWORD.toLowerCase())
  ) {
    problems.push(
      'BULL_BOARD_PASSWORD is a published default and is refused when NODE_ENV=production',
    );
  }
  if (vars.REDIS_TLS_CA_FILE && !vars.REDIS_URL.startsWith('rediss://')) {
    problems.push('REDIS_TLS_CA_FILE needs TLS: REDIS_URL must start with rediss://');
  }
  if (
    vars.QDRANT_WRITE_CONSISTENCY_FACTOR !== undefined &&
    vars.QDRANT_WRITE_CONSISTENCY_FACTOR > (vars.QDRANT_REPLICATION_FACTOR ?? 1)
  ) {
    problems.push(
      `QDRANT_WRITE_CONSISTENCY_FACTOR (${vars.QDRANT_WRITE_CONSISTENCY_FACTOR}) must not exceed ` +
        `QDRANT_REPLICATION_FACTOR (${vars.QDRANT_REPLICATION_FACTOR ?? 1}): no write could succeed`,
    );
  }
  if (!!vars.BULL_BOARD_USER !== !!vars.BULL_BOARD_PASSWORD) {
    problems.push('BULL_BOARD_USER and BULL_BOARD_PASSWORD must be set together');
  }
  return problems;
}

function toTree(v: EnvironmentVariables, app: AppName): QuarryConfig {
  return Object.assign(new QuarryConfig(), {
    env: v.NODE_ENV,
    app,
    isProduction: v.NODE_ENV === 'production',
    http: {
      port: v.PORT,
      workerPort: v.WORKER_HTTP_PORT,
      metricsPort: v.METRICS_PORT,
      jsonMaxBytes: v.JSON_BODY_MAX_BYTES,
      jsonMaxDepth: v.JSON_MAX_DEPTH,
      headersTimeoutMs: v.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: v.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: v.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    },
    log: { level: v.LOG_LEVEL, pretty: v.LOG_PRETTY },
    db: {
      url: v.DATABASE_URL,
      readUrl: v.DATABASE_READ_URL,
      applicationName: `quarry-${app}`,
      poolMax: v.DB_POOL_MAX,
      poolMin: v.DB_POOL_MIN,
      idleTimeoutMs: v.DB_POOL_IDLE_TIMEOUT_MS,
      acquireTimeoutMs: v.DB_POOL_ACQUIRE_TIMEOUT_MS,
      maxLifetimeS: v.DB_POOL_MAX_LIFETIME_S,
      statementTimeoutMs: v.DB_STATEMENT_TIMEOUT_MS,
      transactionTimeoutMs: v.DB_TRANSACTION_TIMEOUT_MS,
      slowQueryMs: v.DB_SLOW_QUERY_MS,
      migrationsRun: v.DB_MIGRATIONS_RUN,
      preparedStatements: v.DB_PREPARED_STATEMENTS,
    },
    redis: {
      url: v.REDIS_URL,
      prefix: v.QUEUE_PREFIX,
      sentinels: v.REDIS_SENTINELS ? parseHostPortList(v.REDIS_SENTINELS) : undefined,
      sentinelName: v.REDIS_SENTINEL_NAME,
      sentinelPassword: v.REDIS_SENTINEL_PASSWORD,
      username: v.REDIS_USERNAME,
      password: v.REDIS_PASSWORD,
      tlsCaFile: v.REDIS_TLS_CA_FILE,
    },
    qdrant: {
      url: v.QDRANT_URL,
      apiKey: v.QDRANT_API_KEY,
      collection: v.QDRANT_COLLECTION,
      dimension: v.EMBEDDING_DIM,
      timeoutMs: v.QDRANT_TIMEOUT_MS,
      collectionSettings: {
        shardNumber: v.QDRANT_SHARD_NUMBER,
        replicationFactor: v.QDRANT_REPLICATION_FACTOR,
        writeConsistencyFactor: v.QDRANT_WRITE_CONSISTENCY_FACTOR,
        onDiskVectors: v.QDRANT_ON_DISK_VECTORS,
        onDiskPayload: v.QDRANT_ON_DISK_PAYLOAD,
        hnswM: v.QDRANT_HNSW_M,
        hnswEfConstruct: v.QDRANT_HNSW_EF_CONSTRUCT,
        // 'none' is Qdrant's own default: compared only when asked for.
        quantization: v.QDRANT_QUANTIZATION === 'none' ? undefined : v.QDRANT_QUANTIZATION,
      },
      writeOrdering: v.QDRANT_WRITE_ORDERING,
    },
    embedding: {
      provider: v.EMBEDDING_PROVIDER,
      model: v.EMBEDDING_MODEL,
      dimension: v.EMBEDDING_DIM,
      batchSize: v.EMBEDDING_BATCH_SIZE,
      baseUrl: v.EMBEDDING_BASE_URL,
      apiKey: v.EMBEDDING_API_KEY,
      timeoutMs: v.EMBEDDING_TIMEOUT_MS,
      modelPath: v.EMBEDDING_MODEL_PATH,
      threads: v.EMBEDDING_THREADS,
      pooling: v.EMBEDDING_POOLING,
      queryPrefix: v.EMBEDDING_QUERY_PREFIX,
      passagePrefix: v.EMBEDDING_PASSAGE_PREFIX,
      maxTokens: v.EMBEDDING_MAX_TOKENS,
      fusion: { semantic: v.SEARCH_SEMANTIC_WEIGHT, keyword: v.SEARCH_KEYWORD_WEIGHT },
    },
    chunking: {
      chunkSize: v.CHUNK_SIZE,
      chunkOverlap: v.CHUNK_OVERLAP,
      maxChunks: v.EXTRACT_MAX_CHUNKS,
    },
    extraction: {
      threads: v.EXTRACT_THREADS,
      timeoutMs: v.EXTRACT_TIMEOUT_MS,
      maxHeapMb: v.EXTRACT_MAX_HEAP_MB,
      maxPages: v.EXTRACT_MAX_PAGES,
      maxChars: v.EXTRACT_MAX_CHARS,
      docxMaxUncompressedBytes: v.DOCX_MAX_UNCOMPRESSED_BYTES,
      docxMaxRatio: v.DOCX_MAX_RATIO,
      docxMaxEntries: v.DOCX_MAX_ENTRIES,
    },
    upload: {
      maxBytes: v.UPLOAD_MAX_BYTES,
      inflightMaxBytes: v.UPLOAD_INFLIGHT_MAX_BYTES,
      tmpDir: v.UPLOAD_TMP_DIR,
    },
    limits: {
      uploadsPerMin: v.RATE_LIMIT_UPLOADS_PER_MIN,
      searchesPerMin: v.RATE_LIMIT_SEARCHES_PER_MIN,
      authFailuresPerMin: v.RATE_LIMIT_AUTH_FAILURES_PER_MIN,
      uploadsPerKey: v.UPLOAD_MAX_CONCURRENT_PER_KEY,
      streamsPerKey: v.SSE_MAX_STREAMS_PER_KEY,
      streamMaxMs: v.SSE_MAX_STREAM_MS,
    },
    worker: {
      concurrency: v.WORKER_CONCURRENCY,
      ingestMaxAttempts: v.INGEST_MAX_ATTEMPTS,
      cleanupMaxAttempts: v.CLEANUP_MAX_ATTEMPTS,
      lockDurationMs: v.WORKER_LOCK_DURATION_MS,
    },
    maintenance: {
      reconcileIntervalMs: v.RECONCILE_INTERVAL_MS,
      staleHeartbeatMs: v.STALE_HEARTBEAT_MS,
      tombstoneRetentionDays: v.TOMBSTONE_RETENTION_DAYS,
    },
    shutdown: { graceMs: v.SHUTDOWN_GRACE_MS },
    auth: {
      devApiKey: v.QUARRY_DEV_API_KEY,
      keyCacheTtlMs: v.API_KEY_CACHE_TTL_MS,
      bullBoardUser: v.BULL_BOARD_USER,
      bullBoardPassword: v.BULL_BOARD_PASSWORD,
    },
  });
}

/** Query parameters whose values are credentials wherever a URL carries them. */
const SECRET_QUERY_KEYS = [
  'password',
  'pass',
  'pwd',
  'secret',
  'token',
  'key',
  'api_key',
  'apikey',
  'access_token',
  'auth',
];

/** Keeps a URL's shape (scheme, host, database) and hides credentials and keys. */
export function maskSecret(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    // A user name alone may be a token (https://<token>@host); keep it only beside a password.
    else if (url.username) url.username = '***';
    for (const name of [...url.searchParams.keys()]) {
      if (SECRET_QUERY_KEYS.some((secret) => name.toLowerCase().includes(secret)))
        url.searchParams.set(name, '***');
    }
    return url.toString();
  } catch {
    return value.length <= 4 ? '***' : `${value.slice(0, 2)}***`;
  }
}

/** A loggable view of the configuration: every secret masked. */
export function describeConfig(config: QuarryConfig): Record<string, unknown> {
  const masked = JSON.parse(JSON.stringify(config)) as Record<string, Record<string, unknown>>;
  const hide = (section: string, key: string, url: boolean): void => {
    const value = masked[section]?.[key];
    if (typeof value === 'string') masked[section][key] = url ? maskSecret(value) : '***';
  };
  hide('db', 'url', true);
  hide('db', 'readUrl', true);
  hide('redis', 'url', true);
  hide('qdrant', 'url', true);
  hide('embedding', 'baseUrl', true);
  hide('redis', 'password', false);
  hide('redis', 'sentinelPassword', false);
  hide('qdrant', 'apiKey', false);
  hide('embedding', 'apiKey', false);
  hide('auth', 'devApiKey', false);
  hide('auth', 'bullBoardPassword', false);
  return masked;
}
