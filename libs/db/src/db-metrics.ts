import { MetricNames, MetricsService } from '@quarry/observability';
import type { DataSource } from 'typeorm';
import { poolStats } from './data-source.factory';
import { DbEvents } from './db-events';

/** Turns DbEvents into the Prometheus metrics named in @quarry/observability. */
export function bindDbMetrics(
  metrics: MetricsService,
  events: DbEvents,
  dataSource: DataSource,
): void {
  const slow = metrics.counter(
    MetricNames.dbSlowQueriesTotal,
    'Statements slower than DB_SLOW_QUERY_MS',
    ['pool'],
  );
  const connectionErrors = metrics.counter(
    MetricNames.dbConnectionErrorsTotal,
    'Connection-level database errors (dropped, terminated, refused)',
    ['pool', 'code'],
  );
  const transactions = metrics.counter(MetricNames.dbTransactionsTotal, 'Finished transactions', [
    'outcome',
  ]);
  const exhausted = metrics.counter(
    MetricNames.dbPoolExhaustedTotal,
    'Checkouts that waited past DB_POOL_ACQUIRE_TIMEOUT_MS',
  );
  metrics.gauge(
    MetricNames.dbPoolConnections,
    'Connections per pool and state',
    ['pool', 'state'],
    {
      collect() {
        if (!dataSource.isInitialized) return;
        for (const [pool, stats] of Object.entries(poolStats(dataSource))) {
          if (!stats) continue;
          this.set({ pool, state: 'total' }, stats.total);
          this.set({ pool, state: 'idle' }, stats.idle);
          this.set({ pool, state: 'waiting' }, stats.waiting);
        }
      },
    },
  );

  // Zero series from the start, so rates and alerts are defined before the first event.
  slow.inc({ pool: 'primary' }, 0);
  transactions.inc({ outcome: 'commit' }, 0);
  transactions.inc({ outcome: 'rollback' }, 0);
  exhausted.inc(0);

  events.on('slow-query', (e) => slow.inc({ pool: e.pool }));
  events.on('connection-error', (e) => connectionErrors.inc({ pool: e.pool, code: e.code }));
  events.on('commit', () => transactions.inc({ outcome: 'commit' }));
  events.on('rollback', () => transactions.inc({ outcome: 'rollback' }));
  events.on('pool-exhausted', () => exhausted.inc());
}
