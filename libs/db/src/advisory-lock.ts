import { Client } from 'pg';
import type { DbModuleOptions } from './db-options';

/**
 * Runs fn while this process holds the advisory lock `key`, or returns undefined at once
 * when another process holds it. The lock is transaction-level (pg_try_advisory_xact_lock)
 * on a connection of its own, held in an open transaction that does nothing else and ends
 * with fn: it cannot leak to another session, and it works the same straight to
 * PostgreSQL and through PgBouncer in transaction mode (where the open transaction keeps
 * one server connection for the lock's lifetime). A crashed holder's lock goes with its
 * connection. fn does its own work on the pool, never inside this transaction.
 */
export async function withTryAdvisoryLock<T>(
  options: Pick<DbModuleOptions, 'url' | 'applicationName'>,
  key: string,
  fn: () => Promise<T>,
): Promise<T | undefined> {
  const lock = new Client({
    connectionString: options.url,
    application_name: `${options.applicationName}-lock`,
    connectionTimeoutMillis: 5_000,
  });
  lock.on('error', () => undefined);
  try {
    await lock.connect();
    await lock.query('BEGIN');
    const [{ locked }] = (
      await lock.query(`SELECT pg_try_advisory_xact_lock($1::bigint) AS locked`, [key])
    ).rows as { locked: boolean }[];
    if (!locked) return undefined;
    return await fn();
  } finally {
    // COMMIT releases the lock; ending the connection would too, a moment later.
    await lock.query('COMMIT').catch(() => undefined);
    await lock.end().catch(() => undefined);
  }
}
