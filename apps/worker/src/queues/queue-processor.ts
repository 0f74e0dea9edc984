import type { Job } from 'bullmq';
import type { JobName, QueueName } from '@quarry/queue';

/** What a handler reports for an expected outcome; throwing means "a retry could help". */
export type JobOutcome = { status: 'completed' | 'skipped'; detail?: string };

/**
 * One processor per queue, switching on `job.name` with an exhaustive check. The
 * runner asserts at start-up that every job name in the catalogue has a processor.
 */
export abstract class QueueProcessor {
  abstract readonly queue: QueueName;
  abstract readonly handles: readonly JobName[];
  /** jobs this queue runs at once per worker process */
  abstract readonly concurrency: number;

  abstract process(job: Job, signal: AbortSignal): Promise<JobOutcome>;

  /**
   * Called for jobs still running when the shutdown grace ran out, before the worker
   * is closed by force: give the work back so another worker can take it at once.
   */
  handBack?(job: Job): Promise<void>;

  /** Called once the last attempt of a job has failed. */
  onFinalFailure?(job: Job, error: Error): Promise<void>;
}

export const QUEUE_PROCESSORS = Symbol('QUEUE_PROCESSORS');
