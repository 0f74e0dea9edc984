import { Injectable } from '@nestjs/common';
import { Job, Queue } from 'bullmq';
import { ALL_QUEUES, JobItem, JobName, QUEUE_OF, QueueName, jobIdFor } from './job-catalogue';
import { JobPolicyOptions, jobOptionsFor } from './job-policy';

export interface EnqueueOptions {
  delayMs?: number;
  /**
   * A finished (completed or failed) job with the same id is removed and the job added
   * again. The reconciler uses this: BullMQ silently ignores an add whose id exists.
   */
  replaceFinished?: boolean;
  /**
   * The id cannot exist yet (a document created a moment ago): skip the lookup. BullMQ
   * still ignores an add whose id exists, so this only saves a round trip.
   */
  freshId?: boolean;
}

export interface EnqueueResult {
  jobId: string;
  /** false when a live job with that id was already there */
  created: boolean;
}

export type QueueCounts = Record<
  'waiting' | 'active' | 'delayed' | 'failed' | 'completed' | 'prioritized',
  number
> & { paused: boolean };

/** Raised when Redis does not take the job in time: the caller decides (202 anyway, or 503). */
export class QueueUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`queue unavailable: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'QueueUnavailableError';
  }
}

/** The one place that adds jobs: ids, attempts, backoff and retention are decided here. */
@Injectable()
export class JobQueueService {
  constructor(
    private readonly queues: ReadonlyMap<QueueName, Queue>,
    private readonly policy: JobPolicyOptions,
    private readonly addTimeoutMs = 3_000,
  ) {}

  queue(name: QueueName): Queue {
    const queue = this.queues.get(name);
    if (!queue) throw new Error(`queue ${name} is not registered`);
    return queue;
  }

  allQueues(): Queue[] {
    return ALL_QUEUES.map((name) => this.queue(name));
  }

  async enqueue(item: JobItem, options: EnqueueOptions = {}): Promise<EnqueueResult> {
    const queue = this.queue(QUEUE_OF[item.name]);
    const jobId = jobIdFor(item);
    return this.withTimeout(async () => {
      if (jobId && !options.freshId) {
        const existing = await queue.getJob(jobId);
        if (existing) {
          const state = await existing.getState();
          if (!(options.replaceFinished && (state === 'completed' || state === 'failed'))) {
            return { jobId, created: false };
          }
          await existing.remove();
        }
      }
      const job = await queue.add(item.name, item.data, {
        ...jobOptionsFor(item.name, this.policy),
        jobId,
        delay: options.delayMs,
      });
      return { jobId: job.id ?? String(jobId), created: true };
    });
  }

  /** A repeatable job (BullMQ job scheduler), idempotent across the fleet. */
  async schedule(schedulerId: string, everyMs: number, item: JobItem): Promise<void> {
    const queue = this.queue(QUEUE_OF[item.name]);
    await queue.upsertJobScheduler(
      schedulerId,
      { every: everyMs },
      { name: item.name, data: item.data, opts: jobOptionsFor(item.name, this.policy) },
    );
  }

  /** Is a job for this id waiting, delayed, active or prioritized? */
  async hasLiveJob(name: JobName, jobId: string): Promise<boolean> {
    const job: Job | undefined = await this.queue(QUEUE_OF[name]).getJob(jobId);
    if (!job) return false;
    const state = await job.getState();
    return (
      state === 'waiting' ||
      state === 'active' ||
      state === 'delayed' ||
      state === 'prioritized' ||
      state === 'waiting-children'
    );
  }

  async counts(name: QueueName): Promise<QueueCounts> {
    const queue = this.queue(name);
    const counts = await queue.getJobCounts(
      'waiting',
      'active',
      'delayed',
      'failed',
      'completed',
      'prioritized',
    );
    return {
      waiting: counts.waiting ?? 0,
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      failed: counts.failed ?? 0,
      completed: counts.completed ?? 0,
      prioritized: counts.prioritized ?? 0,
      paused: await queue.isPaused(),
    };
  }

  private async withTimeout<T>(work: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        work(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${this.addTimeoutMs} ms`)),
            this.addTimeoutMs,
          );
        }),
      ]);
    } catch (err) {
      throw new QueueUnavailableError(err);
    } finally {
      clearTimeout(timer);
    }
  }
}
