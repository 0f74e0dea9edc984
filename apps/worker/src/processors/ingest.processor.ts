import { Injectable } from '@nestjs/common';
import { QuarryConfig } from '@quarry/config';
import { IngestService } from '@quarry/documents';
import { JobName, QueueName, assertNever, type JobDataOf } from '@quarry/queue';
import { Job, UnrecoverableError } from 'bullmq';
import { JobOutcome, QueueProcessor } from '../queues/queue-processor';

@Injectable()
export class IngestProcessor extends QueueProcessor {
  readonly queue = QueueName.Ingest;
  readonly handles = [JobName.IngestDocument] as const;
  readonly concurrency: number;

  constructor(
    private readonly ingest: IngestService,
    config: QuarryConfig,
  ) {
    super();
    this.concurrency = config.worker.concurrency;
  }

  async process(job: Job, signal: AbortSignal): Promise<JobOutcome> {
    const name = job.name as JobName.IngestDocument;
    switch (name) {
      case JobName.IngestDocument: {
        const { documentId, generation } = job.data as JobDataOf<JobName.IngestDocument>;
        const outcome = await this.ingest.ingest(documentId, generation, signal);
        if (outcome.status === 'failed') {
          // The document is marked failed already; tell BullMQ not to retry.
          throw new UnrecoverableError(outcome.error);
        }
        return outcome.status === 'completed'
          ? { status: 'completed', detail: `${outcome.chunks} chunks` }
          : { status: 'skipped', detail: outcome.reason };
      }
      default:
        return assertNever(name);
    }
  }

  override async handBack(job: Job): Promise<void> {
    const { documentId, generation } = job.data as JobDataOf<JobName.IngestDocument>;
    await this.ingest.handBack(documentId, generation, 'stopped during processing; will resume');
  }

  override async onFinalFailure(job: Job, error: Error): Promise<void> {
    if (error instanceof UnrecoverableError || error.name === 'UnrecoverableError') return;
    const { documentId, generation } = job.data as JobDataOf<JobName.IngestDocument>;
    await this.ingest.fail(
      documentId,
      generation,
      `gave up after ${job.attemptsMade} attempts: ${error.message}`,
    );
  }
}
