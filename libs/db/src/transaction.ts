import { AsyncLocalStorage } from 'node:async_hooks';
import type { PoolClient, QueryResult } from 'pg';
import { Client } from 'pg';
import type {
  DataSource,
  EntityManager,
  EntityTarget,
  ObjectLiteral,
  QueryRunner,
  Repository,
} from 'typeorm';
import type { IsolationLevel } from 'typeorm/driver/types/IsolationLevel';
import {
  classifyDbError,
  ConnectionLostError,
  toDbError,
  TransactionTimeoutError,
} from './db-errors';
import { dbRuntimeOf, poolsOf, sessionBound } from './data-source.factory';

export type { IsolationLevel };

export interface TransactionOptions {
  /** defaults to DbModuleOptions.transactionTimeoutMs (30 s when the DataSource is foreign) */
  timeoutMs?: number;
  isolation?: IsolationLevel;
}

interface TransactionContext {
  dataSource: DataSource;
  manager: EntityManager;
  queryRunner: QueryRunner;
}

const context = new AsyncLocalStorage<TransactionContext>();

const DEFAULT_TRANSACTION_TIMEOUT_MS = 30_000;
/**
 * The server-side limits are a backstop for a stalled process; the slack lets the
 * client-side timer win the race normally, so callers see TransactionTimeoutError.
 */
const SERVER_LIMIT_SLACK_MS = 1_000;
/** Bound on the out-of-band cancel after a timeout; the error is raised either way. */
const ABORT_BUDGET_MS = 2_000;

function currentContext(dataSource: DataSource): TransactionContext | undefined {
  const store = context.getStore();
  return store && store.dataSource === dataSource ? store : undefined;
}

export function isInTransaction(dataSource: DataSource): boolean {
  return currentContext(dataSource) !== undefined;
}

/** The transaction's manager inside withTransaction, the DataSource's manager otherwise. */
export function getManager(dataSource: DataSource): EntityManager {
  return currentContext(dataSource)?.manager ?? dataSource.manager;
}

/** A repository that joins the surrounding withTransaction, if any. */
export function getRepository<T extends ObjectLiteral>(
  dataSource: DataSource,
  target: EntityTarget<T>,
): Repository<T> {
  return getManager(dataSource).getRepository(target);
}

/**
 * Runs fn in a transaction on the primary. Everything fn does through getManager /
 * getRepository (or the manager it is given) joins it; a nested call joins the outer
 * transaction (its own options are ignored). Commits when fn resolves, rolls back when it
 * throws. After timeoutMs the transaction is rolled back by ending its backend (which
 * also stops a statement still running) and TransactionTimeoutError is raised.
 * A connection that died mid-transaction raises ConnectionLostError; the client is
 * destroyed, so the next caller gets a healthy connection. Only BEGIN is retried (once,
 * when its connection turns out dead): once fn has run, nothing is, since fn may have
 * effects outside the database.
 */
export async function withTransaction<T>(
  dataSource: DataSource,
  fn: (manager: EntityManager) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const outer = currentContext(dataSource);
  if (outer) return fn(outer.manager);

  const runtime = dbRuntimeOf(dataSource);
  const timeoutMs =
    options.timeoutMs ?? runtime?.options.transactionTimeoutMs ?? DEFAULT_TRANSACTION_TIMEOUT_MS;
  const events = runtime?.events;
  const started = Date.now();
  const { runner, client } = await begin(dataSource, options.isolation, timeoutMs);

  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  let committing = false;
  let discard = false;
  try {
    const work = context.run({ dataSource, manager: runner.manager, queryRunner: runner }, () =>
      fn(runner.manager),
    );
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(new TransactionTimeoutError(timeoutMs));
      }, timeoutMs);
    });
    // fn keeps running after a timeout; its later failure is expected and not reported.
    work.catch(() => undefined);
    const result = await Promise.race([work, deadline]);
    clearTimeout(timer);
    committing = true;
    await runner.commitTransaction();
    events?.emit('commit', { durationMs: Date.now() - started });
    return result;
  } catch (err) {
    clearTimeout(timer);
    const lost = classifyDbError(err).kind === 'connection-lost' || runner.isReleased;
    if (committing && lost) {
      // Neither commit nor rollback can be confirmed: say so rather than guess.
      discard = true;
      throw new ConnectionLostError(err, 'COMMIT (the outcome is unknown)');
    }
    let surfaced: unknown = err;
    let reason: 'error' | 'timeout' | 'connection-lost' = 'error';
    if (timedOut) {
      reason = 'timeout';
      discard = true;
      await abortBackend(dataSource, client);
    } else if (lost) {
      reason = 'connection-lost';
      discard = true;
      surfaced =
        err instanceof ConnectionLostError
          ? err
          : new ConnectionLostError(err, 'transaction (rolled back)');
    } else {
      try {
        await runner.rollbackTransaction();
      } catch (rollbackErr) {
        // The rollback itself failed: the session state is unknown, so it is not reused.
        discard = true;
        if (classifyDbError(rollbackErr).kind === 'connection-lost') {
          reason = 'connection-lost';
        }
      }
    }
    events?.emit('rollback', {
      durationMs: Date.now() - started,
      reason,
      error: surfaced instanceof Error ? surfaced.message : String(surfaced),
    });
    throw surfaced;
  } finally {
    if (discard) await discardConnection(runner, client);
    else await runner.release();
  }
}

/** What one statement of a oneTripTransaction answered. */
export interface StatementResult<T = Record<string, unknown>> {
  rows: T[];
  rowCount: number;
}

/**
 * A short transaction in one round trip: BEGIN, the statements and COMMIT go to the
 * primary as one simple-protocol query. Each statement still takes its own snapshot, as
 * when they are sent one by one (a data-modifying CTE would run them all on the snapshot
 * from before a lock wait), but the connection is taken for one exchange instead of one
 * per statement. The simple protocol has no parameters: callers inline only values they
 * validated (numbers, uuids) or quoted with pg's escapeLiteral. The server skips what
 * follows a failed statement; the connection, its transaction aborted, is then destroyed
 * by the pool, never reused. The same budget as withTransaction (statement_timeout for
 * the whole exchange) and the same commit/rollback events. Not for use inside
 * withTransaction. Answers each statement's rows and row count, in order.
 */
export async function oneTripTransaction(
  dataSource: DataSource,
  statements: string[],
  options: Pick<TransactionOptions, 'timeoutMs'> = {},
): Promise<StatementResult[]> {
  if (currentContext(dataSource)) {
    throw new Error('oneTripTransaction cannot run inside withTransaction');
  }
  const runtime = dbRuntimeOf(dataSource);
  const timeoutMs =
    options.timeoutMs ?? runtime?.options.transactionTimeoutMs ?? DEFAULT_TRANSACTION_TIMEOUT_MS;
  const budget = Math.ceil(timeoutMs) + SERVER_LIMIT_SLACK_MS;
  const text = [
    'BEGIN',
    `SET LOCAL statement_timeout = ${budget}`,
    ...statements.map((statement) => statement.trim().replace(/;$/, '')),
    'COMMIT',
  ].join(';\n');
  const { primary } = poolsOf(dataSource);
  if (!primary) throw new Error('oneTripTransaction needs an initialised postgres DataSource');
  const started = Date.now();
  try {
    const results = (await primary.query(text)) as unknown as QueryResult[];
    runtime?.events.emit('commit', { durationMs: Date.now() - started });
    return results
      .slice(2, -1)
      .map((result) => ({ rows: result.rows, rowCount: result.rowCount ?? 0 }));
  } catch (err) {
    const lost = classifyDbError(err).kind === 'connection-lost';
    runtime?.events.emit('rollback', {
      durationMs: Date.now() - started,
      reason: lost ? 'connection-lost' : 'error',
      error: err instanceof Error ? err.message : String(err),
    });
    // A lost connection may have lost it after COMMIT arrived: the outcome is unknown.
    if (lost) throw new ConnectionLostError(err, 'one-trip transaction (the outcome is unknown)');
    throw toDbError(err, { acquireTimeoutMs: runtime?.options.acquireTimeoutMs });
  }
}

/**
 * Checks out a primary connection and opens the transaction with server-side limits, so
 * nothing outlives the budget even if this process stalls. A connection found dead at
 * BEGIN (killed while idle in the pool a moment ago) is discarded and BEGIN is retried
 * once on a fresh one: nothing of the caller's work has run yet.
 */
async function begin(
  dataSource: DataSource,
  isolation: IsolationLevel | undefined,
  timeoutMs: number,
): Promise<{ runner: QueryRunner; client: PoolClient }> {
  const runtime = dbRuntimeOf(dataSource);
  for (let attempt = 1; ; attempt += 1) {
    const runner = dataSource.createQueryRunner('master');
    let client: PoolClient | undefined;
    try {
      client = (await runner.connect()) as PoolClient;
      await runner.startTransaction(isolation);
      await runner.query(
        `SELECT set_config('statement_timeout', $1, true),
                set_config('idle_in_transaction_session_timeout', $1, true)`,
        [String(Math.ceil(timeoutMs) + SERVER_LIMIT_SLACK_MS)],
      );
      return { runner, client };
    } catch (err) {
      const lost = classifyDbError(err).kind === 'connection-lost' || runner.isReleased;
      if (client && lost) await discardConnection(runner, client);
      else if (client) await runner.rollbackTransaction().catch(() => undefined);
      await runner.release().catch(() => undefined);
      if (lost && client && attempt === 1) continue;
      throw toDbError(err, {
        acquireTimeoutMs: runtime?.options.acquireTimeoutMs,
        operation: client ? 'BEGIN' : 'connect',
      });
    }
  }
}

/**
 * Ends the transaction's backend from a separate short-lived connection: a statement
 * still running is stopped at once and its locks are released, which closing our socket
 * alone would not do until the statement finished.
 */
async function abortBackend(dataSource: DataSource, client: PoolClient): Promise<void> {
  const pid = (client as unknown as { processID?: number }).processID;
  const runtime = dbRuntimeOf(dataSource);
  // Behind a pooler the pid is the pooler's, not a backend's: dropping the connection
  // (the caller discards it) and the SET LOCAL statement_timeout bound the backend instead.
  if (!pid || !runtime || !sessionBound(runtime.options)) return;
  const killer = new Client({
    connectionString: runtime.options.url,
    application_name: runtime.options.applicationName,
    connectionTimeoutMillis: ABORT_BUDGET_MS,
    statement_timeout: ABORT_BUDGET_MS,
  });
  killer.on('error', () => undefined);
  try {
    await killer.connect();
    await killer.query('SELECT pg_terminate_backend($1)', [pid]);
  } catch {
    // The server-side statement_timeout set at BEGIN still bounds the statement.
  } finally {
    await killer.end().catch(() => undefined);
  }
}

/** Releases the connection to the pool with an error, so pg-pool destroys it. */
async function discardConnection(runner: QueryRunner, client: PoolClient): Promise<void> {
  if (runner.isReleased) return;
  const internal = runner as unknown as {
    releasePostgresConnection?: (err: Error) => Promise<void>;
  };
  if (typeof internal.releasePostgresConnection === 'function') {
    await internal.releasePostgresConnection(new Error('connection discarded after failure'));
    return;
  }
  // Fallback if TypeORM renames its internal: an ending client is never pooled again.
  void client.end().catch(() => undefined);
  await runner.release();
}
