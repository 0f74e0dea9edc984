import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { QuarryConfig } from '@quarry/config';
import { JobName, JobQueueService } from '@quarry/queue';

/**
 * Registers the repeatable maintenance jobs. Job schedulers are idempotent by id, so
 * every worker may do this at start; BullMQ keeps one schedule for the fleet. It is
 * registered again every interval, because a Redis that lost its data lost the schedule
 * too, and the reconciler is what brings everything else back.
 */
@Injectable()
export class MaintenanceScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('MaintenanceScheduler');
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly jobs: JobQueueService,
    private readonly config: QuarryConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.ensure(true);
    this.timer = setInterval(
      () => void this.ensure(false),
      this.config.maintenance.reconcileIntervalMs,
    );
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private async ensure(first: boolean): Promise<void> {
    const every = this.config.maintenance.reconcileIntervalMs;
    try {
      await this.jobs.schedule('reconcile', every, {
        name: JobName.Reconcile,
        data: { fix: true },
      });
      await this.jobs.schedule('purge-tombstones', 60 * 60_000, {
        name: JobName.PurgeTombstones,
        data: {},
      });
      if (first) this.logger.log(`reconciler every ${every} ms, tombstone purge hourly`);
    } catch (err) {
      // Redis may be down at start; the next worker start (or restart) schedules again.
      this.logger.warn(`maintenance not scheduled: ${String(err)}`);
    }
  }
}
