import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { poolStats } from './data-source.factory';
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
    statement_timeout: timeoutMs,
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
    const { url, readUrl, applicationName } = this.options;
    return this.health
      .check(key)
      .attempt(async ({ signal }) => {
        const probes = [pingDatabase(url, { timeoutMs, applicationName, signal })];
        if (readUrl && readUrl !== url) {
          probes.push(pingDatabase(readUrl, { timeoutMs, applicationName, signal }));
        }
        await Promise.all(probes);
        return { pools: poolStats(this.dataSource) };
      })
      .withTimeout(timeoutMs + 100);
  }
}
