import { Logger as NestLogger } from '@nestjs/common';
import type { Logger as TypeOrmLogger, QueryRunner } from 'typeorm';
import { DbEvents, PoolRole, truncateStatement } from './db-events';

/**
 * TypeORM's logger hook: slow statements become a warning with duration and a
 * truncated statement (never the parameters, which may hold user data) plus an event.
 */
export class DbLogger implements TypeOrmLogger {
  private readonly logger = new NestLogger('Database');

  constructor(
    private readonly events: DbEvents,
    private readonly logQueries = false,
  ) {}

  logQuery(query: string): void {
    if (this.logQueries) this.logger.debug(truncateStatement(query));
  }

  logQueryError(error: string | Error, query: string): void {
    // Callers get the error; constraint violations are often expected outcomes.
    if (this.logQueries) {
      const message = error instanceof Error ? error.message : error;
      this.logger.debug(`query failed (${message}): ${truncateStatement(query)}`);
    }
  }

  logQuerySlow(
    time: number,
    query: string,
    _parameters?: unknown,
    queryRunner?: QueryRunner,
  ): void {
    const pool: PoolRole =
      queryRunner?.getReplicationMode() === 'slave' && isReplicated(queryRunner)
        ? 'replica'
        : 'primary';
    this.logSlowStatement(pool, time, query);
  }

  /** The same for a statement sent on a pool directly (preparedRead), which knows its pool. */
  logSlowStatement(pool: PoolRole, time: number, query: string): void {
    const statement = truncateStatement(query);
    this.logger.warn(`slow query on ${pool} (${time} ms): ${statement}`);
    this.events.emit('slow-query', { pool, durationMs: time, query: statement });
  }

  logSchemaBuild(message: string): void {
    this.logger.log(message);
  }

  logMigration(message: string): void {
    // migrate() logs what it applied; TypeORM's step-by-step narration is for debugging.
    this.logger.debug(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    const text = typeof message === 'string' ? message : JSON.stringify(message);
    // TypeORM's own log/info lines are narration (migration steps and the like).
    if (level === 'warn') this.logger.warn(text);
    else this.logger.debug(text);
  }
}

function isReplicated(queryRunner: QueryRunner): boolean {
  const driver = queryRunner.connection.driver as { isReplicated?: boolean };
  return driver.isReplicated === true;
}
