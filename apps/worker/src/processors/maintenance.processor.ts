import { Injectable } from '@nestjs/common';
import { QuarryConfig } from '@quarry/config';
import { CleanupService, ReconcilerService } from '@quarry/documents';
import { JobName, QueueName, assertNever, type JobDataOf } from '@quarry/queue';
import { Job } from 'bullmq';
import { JobOutcome, QueueProcessor } from '../queues/queue-processor';

@Injectable()
export class MaintenanceProcessor extends QueueProcessor {
  readonly queue = QueueName.Maintenance;
  readonly handles = [JobName.Reconcile, JobName.PurgeTombstones] as const;
  // One at a time per worker; across the fleet the reconciler's advisory lock decides.
  readonly concurrency = 1;

  constructor(
    private readonly reconciler: ReconcilerService,
    private readonly cleanup: CleanupService,
    private readonly config: QuarryConfig,
  ) {
    super();
  }

  async process(job: Job): Promise<JobOutcome> {
    const name = job.name as JobName.Reconcile | JobName.PurgeTombstones;
    switch (name) {
      case JobName.Reconcile: {
        const { fix } = job.data as JobDataOf<JobName.Reconcile>;
        const report = await this.reconciler.reconcile({ fix });
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
