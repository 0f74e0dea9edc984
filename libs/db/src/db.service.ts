import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager, EntityTarget, ObjectLiteral, Repository } from 'typeorm';
import { poolStats, PoolStats } from './data-source.factory';
import { preparedRead, retryRead } from './read-retry';
import {
  getManager,
  getRepository,
  isInTransaction,
  oneTripTransaction,
  StatementResult,
  TransactionOptions,
  withTransaction,
} from './transaction';

/**
 * The way services reach the database: managers and repositories obtained here join the
 * surrounding transaction, and `read` marks the calls that are safe to retry.
 */
@Injectable()
export class DbService {
  constructor(@Inject(DataSource) readonly dataSource: DataSource) {}

  /** the transaction's manager inside withTransaction, the default one otherwise */
  manager(): EntityManager {
    return getManager(this.dataSource);
  }

  repo<T extends ObjectLiteral>(target: EntityTarget<T>): Repository<T> {
    return getRepository(this.dataSource, target);
  }

  /** An idempotent read, retried once on a fresh connection if its connection died. */
  read<T>(fn: (manager: EntityManager) => Promise<T>): Promise<T> {
    return retryRead(this.dataSource, fn);
  }

  /**
   * One idempotent SELECT of a fixed shape as a named statement, planned once per
   * connection: for short lookups on a request path (see preparedRead).
   */
  readPrepared<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return preparedRead<T>(this.dataSource, sql, params);
  }

  transaction<T>(
    fn: (manager: EntityManager) => Promise<T>,
    options: TransactionOptions = {},
  ): Promise<T> {
    return withTransaction(this.dataSource, fn, options);
  }

  /** BEGIN, the statements and COMMIT in one round trip (see oneTripTransaction). */
  oneTripTransaction(statements: string[]): Promise<StatementResult[]> {
    return oneTripTransaction(this.dataSource, statements);
  }

  inTransaction(): boolean {
    return isInTransaction(this.dataSource);
  }

  poolStats(): { primary: PoolStats; replica?: PoolStats } {
    return poolStats(this.dataSource);
  }
}
