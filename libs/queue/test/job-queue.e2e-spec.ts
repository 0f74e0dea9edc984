import { Test } from '@nestjs/testing';
import { TerminusModule } from '@nestjs/terminus';
import { ObservabilityModule, ShutdownCoordinator } from '@quarry/observability';
import { Worker } from 'bullmq';
import { randomUUID } from 'node:crypto';
import {
  JobName,
  JobQueueService,
  QueueHealthIndicator,
  QueueModule,
  QueueName,
  createRedisConnection,
} from '@quarry/queue';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

async function boot(prefix: string, url = REDIS_URL) {
  const moduleRef = await Test.createTestingModule({
    imports: [
      ObservabilityModule.forRoot({
        appName: 'quarry-test',
        level: 'silent',
        pretty: false,
        shutdownGraceMs: 5_000,
      }),
      TerminusModule,
      QueueModule.forRoot({
        url,
        prefix,
        role: 'producer',
        ingestMaxAttempts: 3,
        cleanupMaxAttempts: 4,
      }),
    ],
  }).compile();
  await moduleRef.init();
  return moduleRef;
}

describe('JobQueueService against the real Redis', () => {
  const prefix = `quarry-test-${randomUUID().slice(0, 8)}`;
  let moduleRef: Awaited<ReturnType<typeof boot>>;
  let jobs: JobQueueService;

  beforeAll(async () => {
    moduleRef = await boot(prefix);
    jobs = moduleRef.get(JobQueueService);
  });

  afterAll(async () => {
    for (const queue of jobs.allQueues()) await queue.obliterate({ force: true });
    await moduleRef.get(ShutdownCoordinator).shutdown('test');
    await moduleRef.close();
  });

  it('adds a job with its deterministic id through the real Queue.add', async () => {
    const documentId = randomUUID();
    const result = await jobs.enqueue({
      name: JobName.IngestDocument,
      data: { documentId, generation: 1 },
    });
    expect(result).toEqual({ jobId: `ingest-${documentId}-1`, created: true });
    const job = await jobs.queue(QueueName.Ingest).getJob(result.jobId);
    expect(job?.data).toEqual({ documentId, generation: 1 });
    expect(job?.opts.attempts).toBe(3);
  });

  it('de-duplicates a second enqueue of the same intention', async () => {
    const documentId = randomUUID();
    const item = { name: JobName.CleanupDocument, data: { documentId, generation: 2 } } as const;
    await jobs.enqueue(item);
    const again = await jobs.enqueue(item);
    expect(again.created).toBe(false);
    expect(await jobs.queue(QueueName.Cleanup).getJobCountByTypes('waiting')).toBe(1);
  });

  it('replaces a finished job when asked, as the reconciler does', async () => {
    const documentId = randomUUID();
    const item = { name: JobName.IngestDocument, data: { documentId, generation: 7 } } as const;
    const { jobId } = await jobs.enqueue(item);
    const connection = createRedisConnection(REDIS_URL, 'worker');
    const worker = new Worker(
      QueueName.Ingest,
      async (job) => (job.id === jobId ? 'done' : 'other'),
      {
        connection,
        prefix,
      },
    );
    await new Promise<void>((resolve) =>
      worker.on('completed', (job) => {
        if (job.id === jobId) resolve();
      }),
    );
    await worker.close();
    connection.disconnect();
    expect((await jobs.enqueue(item)).created).toBe(false);
    const replaced = await jobs.enqueue(item, { replaceFinished: true });
    expect(replaced.created).toBe(true);
    expect(await jobs.hasLiveJob(JobName.IngestDocument, jobId)).toBe(true);
  });

  it('reports counts and pause state per queue', async () => {
    await jobs.queue(QueueName.Maintenance).pause();
    const counts = await jobs.counts(QueueName.Maintenance);
    expect(counts.paused).toBe(true);
    await jobs.queue(QueueName.Maintenance).resume();
    expect((await jobs.counts(QueueName.Maintenance)).paused).toBe(false);
  });

  it('answers health with PING', async () => {
    const result = await moduleRef.get(QueueHealthIndicator).isHealthy();
    expect(result.redis.status).toBe('up');
  });
});

describe('JobQueueService when Redis is unreachable', () => {
  it('fails the enqueue with a clear error instead of hanging, and health is down', async () => {
    const moduleRef = await boot('quarry-test-down', 'redis://127.0.0.1:1');
    const jobs = moduleRef.get(JobQueueService);
    const started = Date.now();
    await expect(
      jobs.enqueue({
        name: JobName.IngestDocument,
        data: { documentId: randomUUID(), generation: 1 },
      }),
    ).rejects.toThrow(/queue unavailable/);
    expect(Date.now() - started).toBeLessThan(10_000);
    const health = await moduleRef.get(QueueHealthIndicator).isHealthy('redis', 500);
    expect(health.redis.status).toBe('down');
    const report = await moduleRef.get(ShutdownCoordinator).shutdown('test');
    expect(report.steps.every((step) => !step.error)).toBe(true);

    await moduleRef.close();
  });
});
