import type { Pool, PoolConfig } from 'pg';
import { DataSource, MigrationExecutor } from 'typeorm';
import type { PostgresDataSourceOptions } from 'typeorm/driver/postgres/PostgresDataSourceOptions';
import { DbEvents, PoolRole } from './db-events';
import { DbLogger } from './db-logger';
import { DbModuleOptions } from './db-options';
import { ENTITIES } from './entities';
import { instrumentedPg } from './instrumented-pg';
import { MIGRATIONS } from './migrations';
import { SnakeNamingStrategy } from './snake-naming.strategy';

/** What the helpers need to know about a DataSource built here. */
export interface DbRuntime {
  options: DbModuleOptions;
  events: DbEvents;
}

const runtimes = new WeakMap<DataSource, DbRuntime>();

export function dbRuntimeOf(dataSource: DataSource): DbRuntime | undefined {
  return runtimes.get(dataSource);
}

/** Whether connections may carry state from one transaction to the next (DB_PREPARED_STATEMENTS). */
export function sessionBound(options: Pick<DbModuleOptions, 'preparedStatements'>): boolean {
  return options.preparedStatements !== false;
}

/** Any fixed 64-bit number; every Quarry process that migrates takes the same one. */
export const MIGRATION_LOCK_KEY = '7231840001';

/**
 * The one DataSource definition, used by the apps (through DbModule) and by the CLI's
 * `migrate`. Not initialised: call `initialize()` (or use DbModule).
 */
export function createDataSource(
  options: DbModuleOptions,
  deps: { events?: DbEvents } = {},
): DataSource {
  const events = deps.events ?? new DbEvents();
  const readUrl = options.readUrl && options.readUrl !== options.url ? options.readUrl : undefined;
  const extra: PoolConfig = {
    min: options.poolMin,
    idleTimeoutMillis: options.idleTimeoutMs,
    maxLifetimeSeconds: options.maxLifetimeS,
    keepAlive: true,
  };
  // Session parameters go in the startup packet, which PgBouncer (1.18) refuses; behind
  // it, transactions still set their own limits with SET LOCAL (see withTransaction).
  if (sessionBound(options)) {
    extra.statement_timeout =
      options.statementTimeoutMs > 0 ? options.statementTimeoutMs : undefined;
    // A session left idle inside a transaction (a leaked runner, a frozen process) is
    // ended by the server instead of holding locks and a pool slot forever.
    extra.idle_in_transaction_session_timeout = options.transactionTimeoutMs + 5_000;
  }
  const connection: Pick<PostgresDataSourceOptions, 'url' | 'replication'> = readUrl
    ? {
        replication: {
          master: { url: options.url, applicationName: options.applicationName },
          slaves: [{ url: readUrl, applicationName: options.applicationName }],
        },
      }
    : { url: options.url };

  const dataSource = new DataSource({
    type: 'postgres',
    ...connection,
    applicationName: options.applicationName,
    poolSize: options.poolMax,
    connectTimeoutMS: options.acquireTimeoutMs,
    extra,
    driver: instrumentedPg({
      events,
      acquireTimeoutMs: options.acquireTimeoutMs,
      roleOf: (config): PoolRole =>
        readUrl && config?.connectionString === readUrl ? 'replica' : 'primary',
    }),
    // Idle-client errors are reported by the instrumented pool itself.
    poolErrorHandler: () => undefined,
    namingStrategy: new SnakeNamingStrategy(),
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsRun: false,
    synchronize: false,
    // Extensions come from migrations, not from TypeORM at connect time.
    installExtensions: false,
    maxQueryExecutionTime: options.slowQueryMs,
    logger: new DbLogger(events, options.logQueries ?? false),
  });
  runtimes.set(dataSource, { options, events });
  return dataSource;
}

/**
 * Applies pending migrations in one transaction that holds a transaction-level advisory
 * lock, so processes starting together apply them once, one after the other, and a
 * failure leaves the schema as it was. Nothing outlives the transaction, so this works
 * through PgBouncer in transaction mode as well. Returns the names applied (empty when
 * the schema was current).
 */
export async function migrate(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner('master');
  try {
    await runner.startTransaction();
    try {
      // Schema changes may legitimately outlast the per-statement limit.
      await runner.query(`SELECT set_config('statement_timeout', '0', true)`);
      await runner.query(`SELECT pg_advisory_xact_lock($1::bigint)`, [MIGRATION_LOCK_KEY]);
      const executor = new MigrationExecutor(dataSource, runner);
      executor.transaction = 'none';
      const applied = await executor.executePendingMigrations();
      await runner.commitTransaction();
      return applied.map((m) => m.name);
    } catch (err) {
      await runner.rollbackTransaction().catch(() => undefined);
      throw err;
    }
  } finally {
    await runner.release();
  }
}

/** For the CLI and tests: connect, apply pending migrations, disconnect. */
export async function runMigrations(options: DbModuleOptions): Promise<string[]> {
  const dataSource = createDataSource({ ...options, poolMax: 1, poolMin: 0 });
  await dataSource.initialize();
  try {
    return await migrate(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

export async function pendingMigrations(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner('master');
  try {
    const pending = await new MigrationExecutor(dataSource, runner).getPendingMigrations();
    return pending.map((m) => m.name);
  } finally {
    await runner.release();
  }
}

export async function hasPendingMigrations(dataSource: DataSource): Promise<boolean> {
  return (await pendingMigrations(dataSource)).length > 0;
}

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

/** The pg pools TypeORM's postgres driver opened: the primary's, and the replica's if any. */
export function poolsOf(dataSource: DataSource): { primary?: Pool; replica?: Pool } {
  const driver = dataSource.driver as unknown as { master?: Pool; slaves?: Pool[] };
  return { primary: driver.master, replica: driver.slaves?.[0] };
}

export function poolStats(dataSource: DataSource): { primary: PoolStats; replica?: PoolStats } {
  const { primary, replica } = poolsOf(dataSource);
  const stats = (pool: Pool | undefined): PoolStats => ({
    total: pool?.totalCount ?? 0,
    idle: pool?.idleCount ?? 0,
    waiting: pool?.waitingCount ?? 0,
  });
  return replica
    ? { primary: stats(primary), replica: stats(replica) }
    : { primary: stats(primary) };
}
