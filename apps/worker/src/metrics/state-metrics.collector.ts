import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DbService, DOCUMENT_STATUSES } from '@quarry/db';
import { MetricNames, MetricsService } from '@quarry/observability';
import { ALL_QUEUES, JobQueueService, QueueName } from '@quarry/queue';

const STATES = ['waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized'] as const;
/** Scrapes come every few seconds from every replica; the answer may be this old. */
const CACHE_MS = 5_000;

interface Snapshot {
  at: number;
  queues: Map<
    QueueName,
    { counts: Record<(typeof STATES)[number], number>; paused: boolean; oldestWaitingS: number }
  >;
  documents: Map<string, number>;
}

/**
 * Gauges of the system's state, read at scrape time: jobs per queue and state, the age
 * of the oldest waiting job, and documents per status. Exposed by the worker so the
 * numbers exist once per replica, whatever the api's scale; alerts take their max.
 */
@Injectable()
export class StateMetricsCollector implements OnApplicationBootstrap {
  private readonly logger = new Logger('StateMetrics');
  private snapshot?: Snapshot;
  private pending?: Promise<Snapshot | undefined>;

  constructor(
    private readonly metrics: MetricsService,
    private readonly jobs: JobQueueService,
    private readonly db: DbService,
  ) {}

  onApplicationBootstrap(): void {
    const read = () => this.read();
    this.metrics.gauge(MetricNames.queueJobs, 'Jobs per queue and state', ['queue', 'state'], {
      async collect() {
        const snap = await read();
        if (!snap) return;
        for (const [queue, q] of snap.queues) {
          for (const state of STATES) this.set({ queue, state }, q.counts[state]);
          this.set({ queue, state: 'paused' }, q.paused ? 1 : 0);
        }
      },
    });
    this.metrics.gauge(
      MetricNames.queueOldestWaitingSeconds,
      'Age of the oldest waiting job',
      ['queue'],
      {
        async collect() {
          const snap = await read();
          if (!snap) return;
          for (const [queue, q] of snap.queues) this.set({ queue }, q.oldestWaitingS);
        },
      },
    );
    this.metrics.gauge(MetricNames.documents, 'Documents per status', ['status'], {
      async collect() {
        const snap = await read();
        if (!snap) return;
        for (const status of DOCUMENT_STATUSES)
          this.set({ status }, snap.documents.get(status) ?? 0);
      },
    });
  }

  private read(): Promise<Snapshot | undefined> {
    if (this.snapshot && Date.now() - this.snapshot.at < CACHE_MS)
      return Promise.resolve(this.snapshot);
    this.pending ??= this.load()
      .then((snap) => (this.snapshot = snap))
      .catch((err: unknown) => {
        // A scrape must not fail because Redis or PostgreSQL is down; health says that.
        this.logger.debug(`state metrics unavailable: ${String(err)}`);
        return this.snapshot;
      })
      .finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async load(): Promise<Snapshot> {
    const queues: Snapshot['queues'] = new Map();
    for (const name of ALL_QUEUES) {
      const { paused, ...counts } = await this.jobs.counts(name);
      const [oldest] = await this.jobs.queue(name).getJobs(['waiting'], 0, 0, true);
      const oldestWaitingS = oldest ? Math.max(0, (Date.now() - oldest.timestamp) / 1000) : 0;
      queues.set(name, { counts, paused, oldestWaitingS });
    }
    const rows: { status: string; count: number }[] = await this.db.read((m) =>
      m.query(`SELECT status, count(*)::int AS count FROM documents GROUP BY status`),
    );
    return { at: Date.now(), queues, documents: new Map(rows.map((r) => [r.status, r.count])) };
  }
}
