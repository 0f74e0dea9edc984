import { Logger } from '@nestjs/common';
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
  /**
   * idle: a pooled client died while nobody used it; in-use: while checked out (during
   * a statement or between the statements of a transaction); connect: opening one failed
   */
  where: 'idle' | 'in-use' | 'connect';
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
  private readonly logger = new Logger('DbEvents');

  constructor() {
    super();
    this.setMaxListeners(50);
  }

  /**
   * A listener that throws must not break the query path that emitted the event, nor
   * keep the other listeners (metrics, logs) from hearing it.
   */
  override emit<K extends keyof DbEventMap>(event: K, ...args: DbEventMap[K]): boolean {
    const listeners = this.rawListeners(event as keyof DbEventMap) as ((...a: unknown[]) => void)[];
    for (const listener of listeners) {
      try {
        listener.apply(this, args);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        this.logger.warn(`a "${String(event)}" listener failed: ${message}`);
      }
    }
    return listeners.length > 0;
  }
}

export function truncateStatement(query: string, max = 500): string {
  const flat = query.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}… (${flat.length} chars)` : flat;
}
