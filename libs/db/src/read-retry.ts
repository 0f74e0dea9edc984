import type { DataSource, EntityManager } from 'typeorm';
import { ConnectionLostError, toDbError } from './db-errors';
import { dbRuntimeOf } from './data-source.factory';
import { getManager, isInTransaction } from './transaction';

const RETRY_PAUSE_MS = 100;

/**
 * Runs an idempotent read and retries it once, on a fresh connection, when the first
 * attempt failed because its connection died (pg_terminate_backend, a failover, a
 * dropped socket). Only for statements that are safe to repeat: fn must not write.
 * Reads go to the replica when one is configured, the retry to the primary. Inside withTransaction it joins the
 * transaction and is never retried (the transaction is gone with its connection).
 * Connection-level failures surface as ConnectionLostError / PoolExhaustedError.
 */
export async function retryRead<T>(
  dataSource: DataSource,
  fn: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  const runtime = dbRuntimeOf(dataSource);
  const translate = (err: unknown): unknown =>
    toDbError(err, { acquireTimeoutMs: runtime?.options.acquireTimeoutMs, operation: 'read' });
  if (isInTransaction(dataSource)) {
    try {
      return await fn(getManager(dataSource));
    } catch (err) {
      throw translate(err);
    }
  }
  for (let attempt = 1; ; attempt += 1) {
    // The retry goes to the primary: if the replica itself is down, reads still work.
    const runner = dataSource.createQueryRunner(attempt === 1 ? 'slave' : 'master');
    try {
      return await fn(runner.manager);
    } catch (err) {
      const typed = translate(err);
      if (typed instanceof ConnectionLostError && attempt === 1) {
        // When a server restarts or fails over, every pooled client dies at once; a short
        // pause lets the pool see the others' end events before the retry checks one out.
        await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
        continue;
      }
      throw typed;
    } finally {
      // A client whose statement hit a connection error is destroyed by the pool, not reused.
      await runner.release();
    }
  }
}
