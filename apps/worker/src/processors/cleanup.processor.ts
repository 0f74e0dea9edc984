import { Injectable } from '@nestjs/common';
import { QuarryConfig } from '@quarry/config';
import { CleanupService } from '@quarry/documents';
import { JobName, QueueName, assertNever, type JobDataOf } from '@quarry/queue';
import { Job } from 'bullmq';
import { JobOutcome, QueueProcessor } from '../queues/queue-processor';

@Injectable()
export class CleanupProcessor extends QueueProcessor {
  readonly queue = QueueName.Cleanup;
  readonly handles = [JobName.CleanupDocument] as const;
  readonly concurrency: number;

  constructor(
    private readonly cleanup: CleanupService,
    config: QuarryConfig,
  ) {
    super();
    this.concurrency = config.worker.concurrency;
  }

  async process(job: Job): Promise<JobOutcome> {
    const name = job.name as JobName.CleanupDocument;
    switch (name) {
      case JobName.CleanupDocument: {
        const { documentId } = job.data as JobDataOf<JobName.CleanupDocument>;
        const outcome = await this.cleanup.cleanup(documentId);
        return outcome.status === 'deleted'
          ? { status: 'completed' }
          : { status: 'skipped', detail: outcome.reason };
      }
      default:
        return assertNever(name);
    }
  }

  override async onFinalFailure(job: Job, error: Error): Promise<void> {
    const { documentId } = job.data as JobDataOf<JobName.CleanupDocument>;
    await this.cleanup.recordFailure(documentId, error.message);
  }
}
