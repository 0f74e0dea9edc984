import { Injectable, Logger } from '@nestjs/common';
import { QuarryConfig } from '@quarry/config';
import { DbService } from '@quarry/db';
import { MetricNames, MetricsService } from '@quarry/observability';
import { JobName, JobQueueService, jobIdFor } from '@quarry/queue';
import { Client } from 'pg';
import type { Counter, Gauge } from 'prom-client';
import { affectedBy } from './sql';

export type Overall = 'healthy' | 'warning' | 'critical';

export interface Finding {
  kind: string;
  severity: 'warning' | 'critical';
  count: number;
  examples: string[];
  message: string;
}

export interface Repair {
  kind: string;
  count: number;
}

export interface ReconcileReport {
  overall: Overall;
  fix: boolean;
  findings: Finding[];
  repairs: Repair[];
  durationMs: number;
}

/** Singleton across the fleet: the reconciler holds this advisory lock while it runs. */
export const RECONCILER_LOCK_KEY = '7231840002';
const EXAMPLES = 10;

/**
 * Closes every gap the queue can leave. PostgreSQL records every intention, so after a
 * lost job, a killed worker or a Redis that forgot everything, this puts each document
 * that should be moving back on the queue. Deterministic job ids make that idempotent.
 */
@Injectable()
export class ReconcilerService {
  private readonly logger = new Logger('Reconciler');
  private readonly findingsGauge: Gauge<'kind'>;
  private readonly repairsCounter: Counter<'kind'>;

  constructor(
    private readonly db: DbService,
    private readonly jobs: JobQueueService,
    private readonly config: QuarryConfig,
    metrics: MetricsService,
  ) {
    this.findingsGauge = metrics.gauge(
      MetricNames.reconcilerFindings,
      'Findings of the last reconcile',
      ['kind'],
    );
    this.repairsCounter = metrics.counter(
      MetricNames.reconcilerRepairsTotal,
      'Repairs made by the reconciler',
      ['kind'],
    );
  }

  /** Runs once if no other process is reconciling; undefined when the lock was taken. */
  async reconcile({ fix }: { fix: boolean }): Promise<ReconcileReport | undefined> {
    const lock = new Client({
      connectionString: this.config.db.url,
      application_name: `${this.config.db.applicationName}-lock`,
    });
    await lock.connect();
    lock.on('error', () => undefined);
    try {
      const [{ locked }] = (
        await lock.query(`SELECT pg_try_advisory_lock($1::bigint) AS locked`, [RECONCILER_LOCK_KEY])
      ).rows as { locked: boolean }[];
      if (!locked) return undefined;
      try {
        return await this.run(fix);
      } finally {
        await lock
          .query(`SELECT pg_advisory_unlock($1::bigint)`, [RECONCILER_LOCK_KEY])
          .catch(() => undefined);
      }
    } finally {
      await lock.end().catch(() => undefined);
    }
  }

  private async run(fix: boolean): Promise<ReconcileReport> {
    const started = Date.now();
    const findings: Finding[] = [];
    const repairs: Repair[] = [];
    const record = (finding: Finding, repaired?: number) => {
      findings.push(finding);
      this.findingsGauge.set({ kind: finding.kind }, finding.count);
      if (repaired !== undefined && repaired > 0) {
        repairs.push({ kind: finding.kind, count: repaired });
        this.repairsCounter.inc({ kind: finding.kind }, repaired);
      }
    };

    // processing with a stale heartbeat: its worker died. Back to pending (then re-enqueued below).
    const stale: { id: string }[] = await this.db.read((m) =>
      m.query(
        `SELECT id FROM documents WHERE status = 'processing'
           AND coalesce(heartbeat_at, updated_at) < now() - make_interval(secs => $1::double precision / 1000)`,
        [this.config.maintenance.staleHeartbeatMs],
      ),
    );
    let reset = 0;
    if (fix && stale.length > 0)
      reset = await this.resetStale(this.config.maintenance.staleHeartbeatMs);
    record(
      {
        kind: 'stale_processing',
        severity: 'warning',
        count: stale.length,
        examples: stale.slice(0, EXAMPLES).map((r) => r.id),
        message: 'documents processing with no heartbeat for longer than STALE_HEARTBEAT_MS',
      },
      reset,
    );

    // pending without a live ingest job (after a grace, so a fresh upload is not raced)
    const pending: { id: string; generation: number }[] = await this.db.read((m) =>
      m.query(
        `SELECT id, generation FROM documents WHERE status = 'pending' AND updated_at < now() - interval '10 seconds'
          ORDER BY updated_at LIMIT 5000`,
      ),
    );
    const orphanedPending = await this.withoutLiveJob(pending, JobName.IngestDocument);
    let requeued = 0;
    if (fix) {
      for (const doc of orphanedPending) {
        const { created } = await this.jobs.enqueue(
          {
            name: JobName.IngestDocument,
            data: { documentId: doc.id, generation: doc.generation },
          },
          { replaceFinished: true },
        );
        if (created) requeued++;
      }
    }
    record(
      {
        kind: 'pending_without_job',
        severity: 'warning',
        count: orphanedPending.length,
        examples: orphanedPending.slice(0, EXAMPLES).map((d) => d.id),
        message: 'pending documents that no ingest job will pick up',
      },
      requeued,
    );

    // deleting without a live cleanup job
    const deleting: { id: string; generation: number }[] = await this.db.read((m) =>
      m.query(
        `SELECT id, generation FROM documents WHERE status = 'deleting' AND updated_at < now() - interval '10 seconds'
          ORDER BY updated_at LIMIT 5000`,
      ),
    );
    const stuckDeleting = await this.withoutLiveJob(deleting, JobName.CleanupDocument);
    let redriven = 0;
    if (fix) {
      for (const doc of stuckDeleting) {
        const { created } = await this.jobs.enqueue(
          {
            name: JobName.CleanupDocument,
            data: { documentId: doc.id, generation: doc.generation },
          },
          { replaceFinished: true },
        );
        if (created) redriven++;
      }
    }
    record(
      {
        kind: 'stuck_deleting',
        severity: 'warning',
        count: stuckDeleting.length,
        examples: stuckDeleting.slice(0, EXAMPLES).map((d) => d.id),
        message: 'deleting documents that no cleanup job will pick up',
      },
      redriven,
    );

    const overall: Overall = findings.some((f) => f.count > 0 && f.severity === 'critical')
      ? 'critical'
      : findings.some((f) => f.count > 0)
        ? 'warning'
        : 'healthy';
    const report = { overall, fix, findings, repairs, durationMs: Date.now() - started };
    if (repairs.length > 0)
      this.logger.log(`reconciled: ${repairs.map((r) => `${r.kind}=${r.count}`).join(', ')}`);
    return report;
  }

  /** processing → pending for documents whose heartbeat is older than `olderThanMs`. */
  async resetStale(olderThanMs: number): Promise<number> {
    return affectedBy(
      this.db.manager(),
      `UPDATE documents
          SET status = 'pending', stage = NULL, heartbeat_at = NULL, updated_at = now() - interval '1 hour',
              error = 'processing stopped (no heartbeat); returned to the queue'
        WHERE status = 'processing'
          AND coalesce(heartbeat_at, updated_at) < now() - make_interval(secs => $1::double precision / 1000)`,
      [olderThanMs],
    );
  }

  private async withoutLiveJob<T extends { id: string; generation: number }>(
    docs: T[],
    name: JobName.IngestDocument | JobName.CleanupDocument,
  ): Promise<T[]> {
    const out: T[] = [];
    for (const doc of docs) {
      const jobId = jobIdFor({
        name,
        data: { documentId: doc.id, generation: doc.generation },
      } as never);
      if (!jobId || !(await this.jobs.hasLiveJob(name, jobId))) out.push(doc);
    }
    return out;
  }
}
