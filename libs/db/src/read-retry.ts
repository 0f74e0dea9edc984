import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { classifyDbError, ConnectionLostError, toDbError } from './db-errors';
import { dbRuntimeOf, poolsOf, sessionBound } from './data-source.factory';
import type { PoolRole } from './db-events';
import { DbLogger } from './db-logger';
import { getManager, isInTransaction } from './transaction';

const RETRY_PAUSE_MS = 100;

/**
 * Runs an idempotent read and retries it once, on a fresh connection, when the first
 * attempt failed because its connection died (pg_terminate_backend, a failover, a
 * dropped socket). Only for statements that are safe to repeat: fn must not write.
 * Reads go to the replica when one is configured, the retry to the primary. Inside
 * withTransaction it joins the transaction and is never retried (the transaction is gone
 * with its connection).
 * Connection-level failures surface as ConnectionLostError / PoolExhaustedError.
 */
export async function retryRead<T>(
  dataSource: DataSource,
  fn: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  return readWithRetry(dataSource, fn, async (attempt) => {
    // The retry goes to the primary: if the replica itself is down, reads still work.
    const runner = dataSource.createQueryRunner(attempt === 1 ? 'slave' : 'master');
    try {
      return await fn(runner.manager);
    } finally {
      // A client whose statement hit a connection error is destroyed by the pool, not reused.
      await runner.release();
    }
  });
}

/**
 * The rules both reads share: inside withTransaction, `inTransaction` on its manager,
 * never retried (the transaction is gone with its connection); otherwise `attempt(1)`
 * and, when its connection died, after a short pause `attempt(2)`. Connection-level
 * failures surface typed.
 */
async function readWithRetry<T>(
  dataSource: DataSource,
  inTransaction: (manager: EntityManager) => Promise<T>,
  attempt: (attempt: 1 | 2) => Promise<T>,
): Promise<T> {
  const runtime = dbRuntimeOf(dataSource);
  const translate = (err: unknown): unknown =>
    toDbError(err, { acquireTimeoutMs: runtime?.options.acquireTimeoutMs, operation: 'read' });
  if (isInTransaction(dataSource)) {
    try {
      return await inTransaction(getManager(dataSource));
    } catch (err) {
      throw translate(err);
    }
  }
  try {
    return await attempt(1);
  } catch (err) {
    const typed = translate(err);
    if (!(typed instanceof ConnectionLostError)) throw typed;
  }
  // When a server restarts or fails over, every pooled client dies at once; a short
  // pause lets the pool see the others' end events before the retry checks one out.
  await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
  try {
    return await attempt(2);
  } catch (err) {
    throw translate(err);
  }
}

/** Statement texts given a name so far; each is hashed once. */
const statementNames = new Map<string, string>();
/** Past this many shapes a statement runs unnamed: a caller that splices values in must not grow this (or the servers' statement caches) without bound. */
const MAX_NAMED_STATEMENTS = 500;
/** SQLSTATE of "cached plan must not change result type", after a schema change under a prepared statement */
const CACHED_PLAN_CHANGED = '0A000';

function statementName(sql: string): string | undefined {
  let name = statementNames.get(sql);
  if (name === undefined && statementNames.size < MAX_NAMED_STATEMENTS) {
    name = `quarry_${createHash('sha1').update(sql).digest('hex').slice(0, 24)}`;
    statementNames.set(sql, name);
  }
  return name;
}

/**
 * One idempotent SELECT, sent as a named statement on the pool itself (no query runner):
 * PostgreSQL parses and plans it once per connection and reuses the plan afterwards,
 * which on a short lookup is most of its time (a search's visibility check: 1.65 ms
 * through a query runner, 1.07 ms prepared). For statements of a fixed shape, with every
 * value in a `$n` parameter. Same guarantees as retryRead: inside withTransaction it joins
 * the transaction (unnamed, never retried); otherwise it goes to the replica when there is
 * one, and is retried once on the primary when its connection died. A statement prepared
 * before a schema change that altered its result type fails once per connection with
 * 0A000; it is then run again unnamed. Slow statements are logged as TypeORM's are.
 * With DB_PREPARED_STATEMENTS=false every statement runs unnamed.
 */
export async function preparedRead<T>(
  dataSource: DataSource,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const options = dbRuntimeOf(dataSource)?.options;
  const slowMs = options?.slowQueryMs ?? 0;
  // Behind a transaction-mode pooler the next statement may reach another server, which
  // never saw the PREPARE: unnamed, as any other statement.
  const name = !options || sessionBound(options) ? statementName(sql) : undefined;
  const run = async (pool: Pool, role: PoolRole, named: boolean): Promise<T[]> => {
    const started = performance.now();
    const result = await pool.query<T & object>({
      text: sql,
      values: params,
      name: named ? name : undefined,
    });
    const ms = Math.round(performance.now() - started);
    if (slowMs > 0 && ms > slowMs) {
      const logger = dataSource.logger;
      if (logger instanceof DbLogger) logger.logSlowStatement(role, ms, sql);
      else logger.logQuerySlow(ms, sql, params);
    }
    return result.rows;
  };
  return readWithRetry(
    dataSource,
    async (manager) => (await manager.query(sql, params)) as T[],
    async (attempt) => {
      const { primary, replica } = poolsOf(dataSource);
      // The retry goes to the primary, as retryRead's does.
      const [pool, role]: [Pool | undefined, PoolRole] =
        attempt === 1 && replica ? [replica, 'replica'] : [primary, 'primary'];
      if (!pool) throw new Error('preparedRead needs an initialised postgres DataSource');
      try {
        return await run(pool, role, name !== undefined);
      } catch (err) {
        if (name === undefined || classifyDbError(err).code !== CACHED_PLAN_CHANGED) throw err;
        return run(pool, role, false);
      }
    },
  );
}
