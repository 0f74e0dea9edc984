import 'reflect-metadata';
import { Transform, Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Max,
  Min,
  MinLength,
  ValidationArguments,
  ValidatorConstraint,
  ValidatorConstraintInterface,
  Validate,
} from 'class-validator';

export const NODE_ENVS = ['development', 'test', 'production'] as const;
export type NodeEnv = (typeof NODE_ENVS)[number];

@ValidatorConstraint({ name: 'connectionUrl' })
class ConnectionUrl implements ValidatorConstraintInterface {
  validate(value: unknown, args: ValidationArguments): boolean {
    if (typeof value !== 'string') return false;
    const protocols = args.constraints as string[];
    try {
      const url = new URL(value);
      return protocols.includes(url.protocol.replace(/:$/, '')) && url.hostname.length > 0;
    } catch {
      return false;
    }
  }

  defaultMessage(args: ValidationArguments): string {
    const protocols = (args.constraints as string[]).map((p) => `${p}://`).join(' or ');
    return `${args.property} must be a URL starting with ${protocols} and naming a host`;
  }
}

@ValidatorConstraint({ name: 'hostPortList' })
class HostPortList implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && parseHostPortList(value) !== undefined;
  }

  defaultMessage(args: ValidationArguments): string {
    return `${args.property} must be a comma-separated list of host:port (e.g. sentinel-0:26379,sentinel-1:26379)`;
  }
}

/** `a:26379, b:26379` → addresses; undefined when any entry is not host:port. */
export function parseHostPortList(value: string): { host: string; port: number }[] | undefined {
  const entries = value.split(',').map((entry) => entry.trim());
  const parsed = entries.map((entry) => {
    const colon = entry.lastIndexOf(':');
    const host = entry.slice(0, colon).replace(/^\[|\]$/g, '');
    const port = Number(entry.slice(colon + 1));
    const valid =
      colon > 0 && host.length > 0 && Number.isInteger(port) && port > 0 && port < 65536;
    return valid ? { host, port } : undefined;
  });
  return parsed.every((p) => p !== undefined) ? parsed : undefined;
}

const toBoolean = ({ value }: { value: unknown }): unknown => {
  if (typeof value !== 'string') return value;
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  return value;
};

/**
 * Every environment variable Quarry reads, with its rule. Values arrive as strings
 * (or as explicit options, already typed); class-transformer converts, class-validator
 * judges, and the loader turns the result into the typed tree in quarry-config.ts.
 */
export class EnvironmentVariables {
  @IsIn(NODE_ENVS, { message: `NODE_ENV must be one of ${NODE_ENVS.join(', ')}` })
  NODE_ENV!: NodeEnv;

  @Type(() => Number)
  @IsInt()
  @Min(0) // 0: any free port (tests)
  @Max(65535)
  PORT!: number;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  WORKER_HTTP_PORT!: number;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL!: string;

  @Transform(toBoolean)
  @IsBoolean()
  LOG_PRETTY!: boolean;

  // ── PostgreSQL ────────────────────────────────────────────────────────────
  @Validate(ConnectionUrl, ['postgres', 'postgresql'])
  DATABASE_URL!: string;

  @IsOptional()
  @Validate(ConnectionUrl, ['postgres', 'postgresql'])
  DATABASE_READ_URL?: string;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  DB_POOL_MAX!: number;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(1000)
  DB_POOL_MIN!: number;

  @Type(() => Number)
  @IsInt()
  @Min(100)
  DB_POOL_IDLE_TIMEOUT_MS!: number;

  @Type(() => Number)
  @IsInt()
  @Min(10)
  DB_POOL_ACQUIRE_TIMEOUT_MS!: number;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  DB_POOL_MAX_LIFETIME_S!: number;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  DB_STATEMENT_TIMEOUT_MS!: number;

  @Type(() => Number)
  @IsInt()
  @Min(10)
  DB_TRANSACTION_TIMEOUT_MS!: number;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  DB_SLOW_QUERY_MS!: number;

  @Transform(toBoolean)
  @IsBoolean()
  DB_MIGRATIONS_RUN!: boolean;

  /** false behind PgBouncer in pool_mode=transaction: nothing session-bound */
  @Transform(toBoolean)
  @IsBoolean()
  DB_PREPARED_STATEMENTS!: boolean;

  // ── Redis / queues ────────────────────────────────────────────────────────
  @Validate(ConnectionUrl, ['redis', 'rediss'])
  REDIS_URL!: string;

  @IsString()
  @MinLength(1)
  QUEUE_PREFIX!: string;

  /** when set, the primary is found through these sentinels (REDIS_URL's host is not used) */
  @IsOptional()
  @Validate(HostPortList)
  REDIS_SENTINELS?: string;

  @IsString()
  @MinLength(1)
  REDIS_SENTINEL_NAME!: string;

  @IsOptional()
  @IsString()
  REDIS_SENTINEL_PASSWORD?: string;

  /** an ACL user; wins over the one in REDIS_URL */
  @IsOptional()
  @IsString()
  @MinLength(1)
  REDIS_USERNAME?: string;

  /** wins over the password in REDIS_URL, so the URL can live in a ConfigMap */
  @IsOptional()
  @IsString()
  REDIS_PASSWORD?: string;

  /** a private CA (PEM file) for rediss:// */
  @IsOptional()
  @IsString()
  @MinLength(1)
  REDIS_TLS_CA_FILE?: string;

  // ── Qdrant ────────────────────────────────────────────────────────────────
  @Validate(ConnectionUrl, ['http', 'https'])
  QDRANT_URL!: string;

  @IsOptional()
  @IsString()
  QDRANT_API_KEY?: string;

  @IsString()
  @MinLength(1)
  QDRANT_COLLECTION!: string;

  @Type(() => Number)
  @IsInt()
  @Min(100)
  QDRANT_TIMEOUT_MS!: number;

  // Collection layout: unset keeps Qdrant's default; checked against an existing collection.
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  QDRANT_SHARD_NUMBER?: number;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  QDRANT_REPLICATION_FACTOR?: number;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  QDRANT_WRITE_CONSISTENCY_FACTOR?: number;

  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  QDRANT_ON_DISK_VECTORS?: boolean;

  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  QDRANT_ON_DISK_PAYLOAD?: boolean;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0) // 0 turns the HNSW graph off (Qdrant's multitenancy recipe builds it per tenant)
  @Max(128)
  QDRANT_HNSW_M?: number;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(4)
  @Max(4096)
  QDRANT_HNSW_EF_CONSTRUCT?: number;

  @IsIn(['none', 'scalar'])
  QDRANT_QUANTIZATION!: 'none' | 'scalar';

  /** how replicas order concurrent writes to the same points */
  @IsIn(['weak', 'medium', 'strong'])
  QDRANT_WRITE_ORDERING!: 'weak' | 'medium' | 'strong';

  // ── Pipeline ──────────────────────────────────────────────────────────────
  @IsIn(['hashing', 'openai', 'local'])
  EMBEDDING_PROVIDER!: 'hashing' | 'openai' | 'local';

  @IsString()
  @MinLength(1)
  EMBEDDING_MODEL!: string;

  @Type(() => Number)
  @IsInt()
  @Min(2)
  @Max(65536)
  EMBEDDING_DIM!: number;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(2048)
  EMBEDDING_BATCH_SIZE!: number;

  @IsOptional()
  @Validate(ConnectionUrl, ['http', 'https'])
  EMBEDDING_BASE_URL?: string;

  @IsOptional()
  @IsString()
  EMBEDDING_API_KEY?: string;

  @Type(() => Number)
  @IsInt()
  @Min(100)
  EMBEDDING_TIMEOUT_MS!: number;

  @IsOptional()
  @IsString()
  EMBEDDING_MODEL_PATH?: string;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(64)
  EMBEDDING_THREADS!: number;

  @IsOptional()
  @IsIn(['mean', 'cls'])
  EMBEDDING_POOLING?: 'mean' | 'cls';

  @IsOptional()
  @IsString()
  EMBEDDING_QUERY_PREFIX?: string;

  @IsOptional()
  @IsString()
  EMBEDDING_PASSAGE_PREFIX?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(8)
  @Max(32_768)
  EMBEDDING_MAX_TOKENS?: number;

  @IsOptional()
  @Type(() => Number)
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(100)
  SEARCH_SEMANTIC_WEIGHT?: number;

  @IsOptional()
  @Type(() => Number)
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(100)
  SEARCH_KEYWORD_WEIGHT?: number;

  @Type(() => Number)
  @IsInt()
  @Min(50)
  @Max(100_000)
  CHUNK_SIZE!: number;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  CHUNK_OVERLAP!: number;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  UPLOAD_MAX_BYTES!: number;

  // ── Extraction caps (one document) ────────────────────────────────────────
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(64)
  EXTRACT_THREADS!: number;

  @Type(() => Number)
  @IsInt()
  @Min(100)
  EXTRACT_TIMEOUT_MS!: number;

  @Type(() => Number)
  @IsInt()
  @Min(32)
  EXTRACT_MAX_HEAP_MB!: number;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  EXTRACT_MAX_PAGES!: number;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  EXTRACT_MAX_CHARS!: number;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  EXTRACT_MAX_CHUNKS!: number;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  DOCX_MAX_UNCOMPRESSED_BYTES!: number;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  DOCX_MAX_RATIO!: number;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  DOCX_MAX_ENTRIES!: number;
  /** bytes of uploads the api holds at once; a request past it is a 503 with Retry-After */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  UPLOAD_INFLIGHT_MAX_BYTES!: number;

  /** where multipart uploads are spooled while they arrive (empty: the system's temporary directory) */
  @IsOptional()
  @IsString()
  UPLOAD_TMP_DIR?: string;

  // ── HTTP boundary ─────────────────────────────────────────────────────────
  /** the api's Prometheus port; /metrics is not served on PORT (0: any free port) */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  METRICS_PORT!: number;

  /** JSON bodies of every route but the text upload (which takes UPLOAD_MAX_BYTES) */
  @Type(() => Number)
  @IsInt()
  @Min(1024)
  JSON_BODY_MAX_BYTES!: number;

  @Type(() => Number)
  @IsInt()
  @Min(2)
  @Max(1000)
  JSON_MAX_DEPTH!: number;

  @Type(() => Number)
  @IsInt()
  @Min(1000)
  HTTP_HEADERS_TIMEOUT_MS!: number;

  @Type(() => Number)
  @IsInt()
  @Min(1000)
  HTTP_REQUEST_TIMEOUT_MS!: number;

  @Type(() => Number)
  @IsInt()
  @Min(1000)
  HTTP_KEEP_ALIVE_TIMEOUT_MS!: number;

  // ── Abuse limits (held in Redis, shared by every api replica; 0 turns one off) ──
  @Type(() => Number)
  @IsInt()
  @Min(0)
  RATE_LIMIT_UPLOADS_PER_MIN!: number;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  RATE_LIMIT_SEARCHES_PER_MIN!: number;

  /** refused credentials per client address and minute before the api stops checking them */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  RATE_LIMIT_AUTH_FAILURES_PER_MIN!: number;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  UPLOAD_MAX_CONCURRENT_PER_KEY!: number;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  SSE_MAX_STREAMS_PER_KEY!: number;

  /** a stream is closed after this; the client reconnects (SSE `retry`) */
  @Type(() => Number)
  @IsInt()
  @Min(1000)
  SSE_MAX_STREAM_MS!: number;

  // ── Worker and maintenance ────────────────────────────────────────────────
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(256)
  WORKER_CONCURRENCY!: number;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  INGEST_MAX_ATTEMPTS!: number;

  /** how long a job's lock lives without renewal: a dead worker's job is retaken after this */
  @Type(() => Number)
  @IsInt()
  @Min(1000)
  WORKER_LOCK_DURATION_MS!: number;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  CLEANUP_MAX_ATTEMPTS!: number;

  @Type(() => Number)
  @IsInt()
  @Min(1000)
  RECONCILE_INTERVAL_MS!: number;

  @Type(() => Number)
  @IsInt()
  @Min(1000)
  STALE_HEARTBEAT_MS!: number;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  TOMBSTONE_RETENTION_DAYS!: number;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  SHUTDOWN_GRACE_MS!: number;

  // ── Access ────────────────────────────────────────────────────────────────
  /**
   * How long an api process trusts a key it has verified before asking PostgreSQL
   * again; a key revoked elsewhere stops working within this time (0: every request).
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(60_000, { message: 'API_KEY_CACHE_TTL_MS must be at most 60000 (revocation waits for it)' })
  API_KEY_CACHE_TTL_MS!: number;

  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'QUARRY_DEV_API_KEY must be at least 16 characters' })
  QUARRY_DEV_API_KEY?: string;

  @IsOptional()
  @IsString()
  @MinLength(1)
  BULL_BOARD_USER?: string;

  @IsOptional()
  @IsString()
  @MinLength(8, { message: 'BULL_BOARD_PASSWORD must be at least 8 characters' })
  BULL_BOARD_PASSWORD?: string;
}

export type EnvironmentKey = keyof EnvironmentVariables;

/** Values that must never reach a log line in clear. */
export const SECRET_KEYS: readonly EnvironmentKey[] = [
  'DATABASE_URL',
  'DATABASE_READ_URL',
  'REDIS_URL',
  'REDIS_PASSWORD',
  'REDIS_SENTINEL_PASSWORD',
  'QDRANT_API_KEY',
  'EMBEDDING_API_KEY',
  'QUARRY_DEV_API_KEY',
  'BULL_BOARD_PASSWORD',
];
