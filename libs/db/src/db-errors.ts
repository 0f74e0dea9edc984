import { QueryFailedError } from 'typeorm';

/** SQLSTATEs that mean the session is gone: the statement did not run to an answer. */
const CONNECTION_SQLSTATES = new Set([
  '57P01', // admin_shutdown (pg_terminate_backend, server stop)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000', // connection_exception
  '08003', // connection_does_not_exist
  '08006', // connection_failure
  '08001', // sqlclient_unable_to_establish_sqlconnection
  '08004', // sqlserver_rejected_establishment_of_sqlconnection
  '25P03', // idle_in_transaction_session_timeout
]);

const CONNECTION_ERRNOS = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

const CONNECTION_MESSAGES = [
  'connection terminated',
  'terminating connection',
  'connection ended',
  'client has encountered a connection error',
  'client was closed and is not queryable',
  'cannot use a pool after calling end',
];

/** pg-pool's message when no client became free within connectionTimeoutMillis. */
const POOL_TIMEOUT_MESSAGE = 'timeout exceeded when trying to connect';

export type DbErrorKind =
  | 'pool-exhausted'
  | 'connection-lost'
  | 'transaction-timeout'
  | 'statement-timeout'
  | 'serialization'
  | 'constraint'
  | 'invalid-value'
  | 'other';

abstract class DbError extends Error {
  abstract readonly kind: DbErrorKind;
  /** SQLSTATE or errno of the underlying driver error, when there is one. */
  readonly code?: string;

  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = new.target.name;
    this.code = driverCode(cause);
  }
}

/** No pooled connection became free within the acquire timeout; the api answers 503. */
export class PoolExhaustedError extends DbError {
  readonly kind = 'pool-exhausted' as const;

  constructor(
    readonly pool: string,
    readonly acquireTimeoutMs: number,
    cause?: unknown,
    /** A hint for Retry-After: long enough for a typical request to return its connection. */
    readonly retryAfterSeconds = Math.max(1, Math.ceil(acquireTimeoutMs / 1000)),
  ) {
    super(
      `database pool "${pool}" exhausted: no connection became free within ${acquireTimeoutMs} ms`,
      cause,
    );
  }
}

/** The connection died under the statement; the client has been discarded, not reused. */
export class ConnectionLostError extends DbError {
  readonly kind = 'connection-lost' as const;

  constructor(cause: unknown, context = 'query') {
    super(`database connection lost during ${context}: ${messageOf(cause)}`, cause);
  }
}

export class TransactionTimeoutError extends DbError {
  readonly kind = 'transaction-timeout' as const;

  constructor(
    readonly timeoutMs: number,
    cause?: unknown,
  ) {
    super(
      `transaction exceeded its ${timeoutMs} ms timeout and was rolled back; ` +
        'keep transactions short and never wait on other services inside one',
      cause,
    );
  }
}

export function isPoolExhausted(err: unknown): err is PoolExhaustedError {
  return err instanceof PoolExhaustedError;
}

/**
 * True for ConnectionLostError and for the raw shapes that mean the same thing, e.g. the
 * QueryFailedError (57P01) a plain repository call raises when its backend is killed,
 * so an exception filter needs no separate translation step.
 */
export function isConnectionLost(err: unknown): boolean {
  return classifyDbError(err).kind === 'connection-lost';
}

/** PostgreSQL refused a value the request carried: the client's fault, a 400. */
export function isInvalidValue(err: unknown): boolean {
  return classifyDbError(err).kind === 'invalid-value';
}

export function isTransactionTimeout(err: unknown): err is TransactionTimeoutError {
  return err instanceof TransactionTimeoutError;
}

export interface DbErrorClassification {
  kind: DbErrorKind;
  /** SQLSTATE or errno, when the driver gave one */
  code?: string;
  /** true when running the same idempotent statement again on a fresh connection may work */
  retryable: boolean;
}

/**
 * Tells what kind of failure an error from TypeORM or pg is. TypeORM wraps statement
 * errors in QueryFailedError (with the pg error as driverError) but lets pool
 * checkout errors through as they are, so both shapes are looked at.
 */
export function classifyDbError(err: unknown): DbErrorClassification {
  if (err instanceof DbError) {
    return { kind: err.kind, code: err.code, retryable: err.kind === 'connection-lost' };
  }
  const code = driverCode(err);
  const message = messageOf(err).toLowerCase();
  if (message.includes(POOL_TIMEOUT_MESSAGE)) {
    return { kind: 'pool-exhausted', code, retryable: false };
  }
  if (code && CONNECTION_SQLSTATES.has(code))
    return { kind: 'connection-lost', code, retryable: true };
  if (code && CONNECTION_ERRNOS.has(code))
    return { kind: 'connection-lost', code, retryable: true };
  if (code === '57014') return { kind: 'statement-timeout', code, retryable: false };
  if (code === '40001' || code === '40P01') return { kind: 'serialization', code, retryable: true };
  if (code && code.startsWith('23')) return { kind: 'constraint', code, retryable: false };
  // Data exceptions (a NUL in text, an unpaired surrogate in jsonb, an integer out of
  // range) and program limits (jsonb nested too deep): the value is at fault, not the database.
  if (code && (code.startsWith('22') || code === '54000' || code === '54001'))
    return { kind: 'invalid-value', code, retryable: false };
  if (!code && CONNECTION_MESSAGES.some((m) => message.includes(m))) {
    return { kind: 'connection-lost', code, retryable: true };
  }
  return { kind: 'other', code, retryable: false };
}

/**
 * Returns the typed error for connection-level failures (ConnectionLostError,
 * PoolExhaustedError) and the original error for everything else, so that
 * constraint violations and the like keep their TypeORM shape for callers.
 */
export function toDbError(
  err: unknown,
  context: { pool?: string; acquireTimeoutMs?: number; operation?: string } = {},
): unknown {
  if (err instanceof DbError) return err;
  const { kind } = classifyDbError(err);
  if (kind === 'pool-exhausted') {
    return new PoolExhaustedError(context.pool ?? 'primary', context.acquireTimeoutMs ?? 0, err);
  }
  if (kind === 'connection-lost') return new ConnectionLostError(err, context.operation);
  return err;
}

function driverCode(err: unknown): string | undefined {
  const candidates: unknown[] = [err];
  if (err instanceof QueryFailedError) candidates.unshift(err.driverError);
  if (err instanceof Error && err.cause !== undefined) candidates.push(err.cause);
  for (const candidate of candidates) {
    if (candidate && typeof candidate === 'object' && 'code' in candidate) {
      const code = (candidate as { code: unknown }).code;
      if (typeof code === 'string' && code.length > 0) return code;
    }
  }
  return undefined;
}

function messageOf(err: unknown): string {
  if (err instanceof Error) {
    const parts = [err.message];
    if (err instanceof QueryFailedError && err.driverError instanceof Error) {
      parts.push(err.driverError.message);
    }
    if (err.cause instanceof Error) parts.push(err.cause.message);
    return parts.join(' | ');
  }
  return String(err);
}
