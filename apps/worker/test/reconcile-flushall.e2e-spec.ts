import { PrivateRedis, startPrivateRedis } from './support/private-redis';
import { FAST_MAINTENANCE, ReconcileStack, sampleText } from './support/reconcile-stack';

/**
 * Redis is not a source of truth: FLUSHALL in the middle of 50 ingests and 20 deletes
 * loses nothing. Every document ends where its client asked, with no orphan and no
 * missing point, within a bounded time and without anyone's help.
 */
describe('Redis FLUSHALL mid-flight', () => {
  let redis: PrivateRedis;
  let stack: ReconcileStack;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    stack = await ReconcileStack.start('flushall', {
      redisUrl: redis.url,
      overrides: { ...FAST_MAINTENANCE, WORKER_CONCURRENCY: 2 },
    });
    await stack.startWorker();
    await stack.startWorker();
  });

  afterAll(async () => {
    await stack?.close();
    await redis?.stop();
  });

  it('converges: survivors completed, deleted ones deleted, integrity healthy', async () => {
    const kept: string[] = [];
    const deleted: string[] = [];
    let inFlightAtFlush = 0;
    let keysFlushed = 0;
    for (const half of [0, 1]) {
      // 25 uploads at once, so a backlog sits in the queue; 10 of them deleted
      const ids = await Promise.all(
        Array.from({ length: 25 }, (_, i) =>
          stack.upload(sampleText(`flush-${half}-${i}`, 2 + (i % 4)), `flush-${half}-${i}.txt`),
        ),
      );
      await Promise.all(
        ids.map(async (id, i) => {
          if (i % 5 === 1 || i % 5 === 3) {
            await new Promise((resolve) => setTimeout(resolve, (i % 3) * 40));
            await stack.documents.delete(stack.ownerId, id);
            deleted.push(id);
          } else kept.push(id);
        }),
      );
      if (half === 0) {
        const [{ n }] = await stack.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM documents WHERE status IN ('pending', 'processing', 'deleting')`,
        );
        inFlightAtFlush = n;
        keysFlushed = await redis.flushAll();
      }
    }
    expect(deleted).toHaveLength(20);
    expect(kept).toHaveLength(30);
    expect(keysFlushed).toBeGreaterThan(0);
    expect(inFlightAtFlush).toBeGreaterThan(0);

    // bounded: well within a minute at these reconcile settings; 120 s before it counts as stuck
    await stack.expectConverged(kept, deleted, 120_000);
  });
});
