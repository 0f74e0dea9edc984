import { Injectable } from '@nestjs/common';
import { QuarryConfig } from '@quarry/config';
import { CleanupService, ReconcilerService } from '@quarry/documents';
import { MetricNames, MetricsService } from '@quarry/observability';
import { JobName, QueueName, assertNever, type JobDataOf } from '@quarry/queue';
import { Job } from 'bullmq';
import type { Gauge } from 'prom-client';
import { JobOutcome, QueueProcessor } from '../queues/queue-processor';

const SEVERITY = { healthy: 0, warning: 1, critical: 2 } as const;

@Injectable()
export class MaintenanceProcessor extends QueueProcessor {
  readonly queue = QueueName.Maintenance;
  readonly handles = [JobName.Reconcile, JobName.PurgeTombstones] as const;
  // One at a time per worker; across the fleet the reconciler's advisory lock decides.
  readonly concurrency = 1;

  private readonly integrity: Gauge;

  constructor(
    private readonly reconciler: ReconcilerService,
    private readonly cleanup: CleanupService,
    private readonly config: QuarryConfig,
    metrics: MetricsService,
  ) {
    super();
    this.integrity = metrics.gauge(
      MetricNames.integrityStatus,
      'Last integrity check: 0 healthy, 1 warning, 2 critical',
    );
  }

  async process(job: Job): Promise<JobOutcome> {
    const name = job.name as JobName.Reconcile | JobName.PurgeTombstones;
    switch (name) {
      case JobName.Reconcile: {
        const { fix } = job.data as JobDataOf<JobName.Reconcile>;
        const report = await this.reconciler.reconcile({ fix });
        if (report) this.integrity.set(SEVERITY[report.overall]);
        return report
          ? { status: 'completed', detail: report.overall }
          : { status: 'skipped', detail: 'another worker is reconciling' };
      }
      case JobName.PurgeTombstones: {
        const purged = await this.cleanup.purgeTombstones(
          this.config.maintenance.tombstoneRetentionDays,
        );
        return { status: 'completed', detail: `${purged} tombstones purged` };
      }
      default:
        return assertNever(name);
    }
  }
}
