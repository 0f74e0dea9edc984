/**
 * Everything the database layer needs, built by the app from its validated config.
 * The library never reads process.env itself.
 */
export interface DbModuleOptions {
  /** primary: writes, transactions and reads unless a replica is given */
  url: string;
  /** optional read replica; plain reads go here, writes and transactions never do */
  readUrl?: string;
  /** shows in pg_stat_activity: quarry-api, quarry-worker, quarry-cli */
  applicationName: string;
  poolMax: number;
  poolMin: number;
  idleTimeoutMs: number;
  /** how long a checkout waits for a free connection before PoolExhaustedError */
  acquireTimeoutMs: number;
  /** connections are recycled after this many seconds (0 = never) */
  maxLifetimeS: number;
  /** server-side limit per statement (0 = none) */
  statementTimeoutMs: number;
  /** default per-transaction limit for withTransaction */
  transactionTimeoutMs: number;
  slowQueryMs: number;
  /** run pending migrations during start-up (under an advisory lock) */
  migrationsRun: boolean;
  /**
   * DB_PREPARED_STATEMENTS (default true). false: nothing may outlive one transaction on
   * a server connection, so Quarry runs behind PgBouncer in pool_mode=transaction: no
   * named statements, no session parameters at connect, no ending a backend by its pid.
   */
  preparedStatements?: boolean;
  /** log every statement at debug level */
  logQueries?: boolean;
}

export const DB_OPTIONS = Symbol('DB_OPTIONS');
