import { EventEmitter } from 'node:events';

export type PoolRole = 'primary' | 'replica';

export interface SlowQueryEvent {
  pool: PoolRole;
  durationMs: number;
  /** the statement, truncated; parameters are never included */
  query: string;
}

export interface ConnectionErrorEvent {
  pool: PoolRole;
  /** SQLSTATE or errno when known, otherwise 'unknown' */
  code: string;
  message: string;
  /** idle: a pooled client died while nobody used it; query: during a statement */
  where: 'idle' | 'query' | 'transaction' | 'connect';
}

export interface TransactionEvent {
  durationMs: number;
}

export interface RollbackEvent extends TransactionEvent {
  reason: 'error' | 'timeout' | 'connection-lost';
  error: string;
}

export interface PoolExhaustedEvent {
  pool: PoolRole;
  acquireTimeoutMs: number;
  waiting: number;
}

export interface DbEventMap {
  'slow-query': [SlowQueryEvent];
  'connection-error': [ConnectionErrorEvent];
  commit: [TransactionEvent];
  rollback: [RollbackEvent];
  'pool-exhausted': [PoolExhaustedEvent];
}

/**
 * What the database layer reports about itself. Metrics subscribe here (DbMetrics), and
 * so can anything else that wants to react, e.g. tests or an alerting hook.
 */
export class DbEvents extends EventEmitter<DbEventMap> {
  constructor() {
    super();
    // A listener that throws must not break the query path that emitted the event.
    this.setMaxListeners(50);
  }
}

export function truncateStatement(query: string, max = 500): string {
  const flat = query.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}… (${flat.length} chars)` : flat;
}
