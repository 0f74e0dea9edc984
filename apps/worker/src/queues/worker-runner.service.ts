import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { QuarryConfig } from '@quarry/config';
import {
  MetricNames,
  MetricsService,
  ShutdownCoordinator,
  ShutdownPhase,
} from '@quarry/observability';
import { ALL_JOBS, QUEUE_OF, backoffStrategy, createRedisConnection } from '@quarry/queue';
import { Job, Worker } from 'bullmq';
import type Redis from 'ioredis';
import type { Counter, Histogram } from 'prom-client';
import { QUEUE_PROCESSORS, QueueProcessor } from './queue-processor';

/**
 * Runs one BullMQ Worker per processor and owns their drain at shutdown: stop taking
 * jobs, wait for the active ones up to SHUTDOWN_GRACE_MS, hand back what is still
 * running, then close — all before queues, Redis and the pools close.
 */
@Injectable()
export class WorkerRunnerService implements OnApplicationBootstrap {
  private readonly logger = new Logger('WorkerRunner');
  private readonly workers: { worker: Worker; processor: QueueProcessor; connection: Redis }[] = [];
  private readonly abort = new AbortController();
  /** jobs this process is running now, for the hand-back at the end of the grace */
  private readonly active = new Map<Job, QueueProcessor>();
  private readonly duration: Histogram<'queue' | 'job_name' | 'outcome'>;
  private readonly failed: Counter<'queue' | 'job_name'>;

  constructor(
    @Inject(QUEUE_PROCESSORS) private readonly processors: QueueProcessor[],
    private readonly config: QuarryConfig,
    private readonly shutdown: ShutdownCoordinator,
    metrics: MetricsService,
  ) {
    this.duration = metrics.histogram(
      MetricNames.jobDuration,
      'Job duration in seconds by outcome',
      ['queue', 'job_name', 'outcome'],
      { buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300] },
    );
    this.failed = metrics.counter(MetricNames.jobsFailedTotal, 'Jobs whose last attempt failed', [
      'queue',
      'job_name',
    ]);
  }

  onApplicationBootstrap(): void {
    assertEveryJobHandled(this.processors);
    // Zero series from the start, so a rate() over them is defined before the first failure.
    for (const processor of this.processors) {
      for (const jobName of processor.handles)
        this.failed.inc({ queue: processor.queue, job_name: jobName }, 0);
    }
    for (const processor of this.processors) this.start(processor);
    this.shutdown.register({
      name: 'queue workers (drain)',
      phase: ShutdownPhase.Workers,
      close: () => this.drain(),
    });
  }

  /** Stop taking new jobs now (pause locally); active ones keep running. */
  async stopTaking(): Promise<void> {
    await Promise.all(this.workers.map(({ worker }) => worker.pause(true)));
  }

  private start(processor: QueueProcessor): void {
    const connection = createRedisConnection(
      this.config.redis,
      'worker',
      `${this.config.db.applicationName}-${processor.queue}`,
    );
    const worker = new Worker(
      processor.queue,
      async (job: Job) => {
        const end = this.duration.startTimer({ queue: processor.queue, job_name: job.name });
        this.active.set(job, processor);
        try {
          const outcome = await processor.process(job, this.abort.signal);
          end({ outcome: outcome.status });
          return outcome;
        } catch (err) {
          end({ outcome: 'failed' });
          throw err;
        } finally {
          this.active.delete(job);
        }
      },
      {
        connection,
        prefix: this.config.redis.prefix,
        concurrency: processor.concurrency,
        // Long enough to survive a slow synchronous slice (renewed every lockDuration/2);
        // a dead worker's job is taken over once it expires.
        lockDuration: this.config.worker.lockDurationMs,
        stalledInterval: Math.min(30_000, this.config.worker.lockDurationMs),
        // A job that stalls twice (its worker died twice holding it) is failed, not looped.
        maxStalledCount: 2,
        settings: { backoffStrategy },
      },
    );
    worker.on('error', (err) => this.logger.warn(`${processor.queue} worker: ${err.message}`));
    worker.on('failed', (job, err) => {
      if (!job) return;
      const attempts = job.opts.attempts ?? 1;
      if (job.attemptsMade >= attempts || err.name === 'UnrecoverableError') {
        this.failed.inc({ queue: processor.queue, job_name: job.name });
        void processor
          .onFinalFailure?.(job, err)
          .catch((e: unknown) =>
            this.logger.error(`final-failure handler for ${job.id} failed: ${String(e)}`),
          );
      }
    });
    this.workers.push({ worker, processor, connection });
    this.logger.log(`processing ${processor.queue} (concurrency ${processor.concurrency})`);
  }

  private async drain(): Promise<void> {
    const graceMs = this.config.shutdown.graceMs;
    await this.stopTaking().catch(() => undefined);
    const closing = Promise.all(this.workers.map(({ worker }) => worker.close()));
    const inTime = await Promise.race([
      closing.then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), graceMs).unref()),
    ]);
    if (!inTime) {
      this.logger.warn(`active jobs still running after ${graceMs} ms: handing them back`);
      this.abort.abort();
      for (const [job, processor] of [...this.active]) {
        await processor
          .handBack?.(job)
          .catch((e: unknown) => this.logger.error(`hand back of ${job.id} failed: ${String(e)}`));
      }
      await Promise.all(
        this.workers.map(({ worker }) => worker.close(true).catch(() => undefined)),
      );
    }
    for (const { connection } of this.workers) connection.disconnect();
  }
}

export function assertEveryJobHandled(processors: QueueProcessor[]): void {
  for (const name of ALL_JOBS) {
    const owners = processors.filter((p) => p.handles.includes(name));
    if (owners.length !== 1) {
      throw new Error(`job ${name} must have exactly one processor, found ${owners.length}`);
    }
    if (owners[0].queue !== QUEUE_OF[name]) {
      throw new Error(`job ${name} belongs to queue ${QUEUE_OF[name]}, not ${owners[0].queue}`);
    }
  }
}
