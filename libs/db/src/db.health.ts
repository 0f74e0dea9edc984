import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import type { ReplicationMode } from 'typeorm/driver/types/ReplicationMode';
import { poolStats } from './data-source.factory';
import { classifyDbError } from './db-errors';
import { DB_OPTIONS, DbModuleOptions } from './db-options';

export const DB_HEALTH_TIMEOUT_MS = 1_000;

/**
 * Connects with a dedicated short-lived client and runs SELECT 1 under a hard deadline.
 * A probe never waits in the pool's queue, so an exhausted pool cannot make readiness
 * hang; the pool stats beside the answer show the exhaustion instead.
 */
export async function pingDatabase(
  url: string,
  options: { timeoutMs?: number; applicationName?: string; signal?: AbortSignal } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? DB_HEALTH_TIMEOUT_MS;
  const client = new Client({
    connectionString: url,
    application_name: `${options.applicationName ?? 'quarry'}-health`,
    connectionTimeoutMillis: timeoutMs,
    // Client-side only: a startup statement_timeout would be refused by PgBouncer.
    query_timeout: timeoutMs,
  });
  client.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  const abort = new Promise<never>((_, reject) => {
    const fail = (): void => reject(new Error(`database did not answer within ${timeoutMs} ms`));
    timer = setTimeout(fail, timeoutMs);
    options.signal?.addEventListener('abort', fail, { once: true });
  });
  try {
    await Promise.race([
      (async () => {
        await client.connect();
        await client.query('SELECT 1');
      })(),
      abort,
    ]);
  } finally {
    clearTimeout(timer);
    // Bounded: ending a client that never finished connecting can wait on the peer forever.
    await Promise.race([
      client.end().catch(() => undefined),
      new Promise((resolve) => setTimeout(resolve, 200).unref()),
    ]);
  }
}

@Injectable()
export class DbHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(DB_OPTIONS) private readonly options: DbModuleOptions,
  ) {}

  async isHealthy(
    key = 'database',
    timeoutMs = DB_HEALTH_TIMEOUT_MS,
  ): Promise<HealthIndicatorResult> {
    const { url, readUrl } = this.options;
    return this.health
      .check(key)
      .attempt(async ({ signal }) => {
        const probes = [this.probe(url, 'master', timeoutMs, signal)];
        if (readUrl && readUrl !== url) {
          probes.push(this.probe(readUrl, 'slave', timeoutMs, signal));
        }
        await Promise.all(probes);
        return { pools: poolStats(this.dataSource) };
      })
      .withTimeout(timeoutMs + 100);
  }

  /**
   * When the server refuses one more session (max_connections or the role's limit) while
   * our pool still holds working ones, the database is up for this process: fall back to a
   * pooled checkout (bounded by the same deadline) instead of taking every replica out of
   * rotation at once.
   */
  private async probe(
    url: string,
    mode: ReplicationMode,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<void> {
    const started = Date.now();
    try {
      await pingDatabase(url, { timeoutMs, applicationName: this.options.applicationName, signal });
    } catch (err) {
      if (classifyDbError(err).code !== TOO_MANY_CONNECTIONS) throw err;
      const runner = this.dataSource.createQueryRunner(mode);
      // Released only once the checkout settled: releasing a runner whose checkout is
      // still queued would leak the client it receives later.
      const query = runner.query('SELECT 1');
      void query.then(
        () => runner.release(),
        () => runner.release(),
      );
      const remaining = Math.max(1, timeoutMs - (Date.now() - started));
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          query,
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`database did not answer within ${timeoutMs} ms`)),
              remaining,
            );
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
    }
  }
}

/** SQLSTATE too_many_connections */
const TOO_MANY_CONNECTIONS = '53300';
