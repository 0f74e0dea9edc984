import { RedisSentinelCluster } from '@quarry/testing';
import { FAST_MAINTENANCE, ReconcileStack, sampleText } from './support/reconcile-stack';

/**
 * Redis behind Sentinel (the machine's redis-server and redis-sentinel: a primary, a
 * replica, three sentinels) fails over while documents are being ingested and deleted:
 * twice on request (SENTINEL FAILOVER), then once because the primary is killed. Queues,
 * workers, progress events and the reconciler reach Redis only through the sentinels, so
 * every document still ends where its client asked, with check-data healthy and not one
 * document lost.
 */
// A job lost with the primary waits for its stale heartbeat (15 s) before the reconciler
// hands it back; under a loaded machine a run takes up to a minute.
describe('Redis Sentinel failover mid-flight', () => {
  let cluster: RedisSentinelCluster;
  let stack: ReconcileStack;

  beforeAll(async () => {
    cluster = await RedisSentinelCluster.start();
    stack = await ReconcileStack.start('sentinel', {
      // With sentinels, REDIS_URL's host is not used: the primary is asked of them.
      redisUrl: `redis://127.0.0.1:${await cluster.primaryPort()}`,
      overrides: {
        ...FAST_MAINTENANCE,
        WORKER_CONCURRENCY: 2,
        REDIS_SENTINELS: cluster.sentinels,
        REDIS_SENTINEL_NAME: cluster.masterName,
      },
    });
    await stack.startWorker();
    await stack.startWorker();
  });

  afterAll(async () => {
    await stack?.close();
    await cluster?.stop();
  });

  it('loses no document: survivors completed, deleted ones deleted, check-data healthy', async () => {
    const kept: string[] = [];
    const deleted: string[] = [];
    const firstPrimary = await cluster.primaryPort();
    const primaries: number[] = [];
    let inFlightAtFailover = 0;
    for (const round of [0, 1]) {
      const ids = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          stack.upload(sampleText(`sentinel-${round}-${i}`, 2 + (i % 4)), `s-${round}-${i}.txt`),
        ),
      );
      // Deletions race the failover: some are accepted before it, some during it.
      const deletions = Promise.all(
        ids.map(async (id, i) => {
          if (i % 5 === 1 || i % 5 === 3) {
            await new Promise((resolve) => setTimeout(resolve, (i % 4) * 50));
            await stack.documents.delete(stack.ownerId, id);
            deleted.push(id);
          } else kept.push(id);
        }),
      );
      const [{ n }] = await stack.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM documents WHERE status IN ('pending', 'processing', 'deleting')`,
      );
      inFlightAtFailover = Math.max(inFlightAtFailover, n);
      primaries.push(await cluster.failover());
      await deletions;
    }
    expect(deleted).toHaveLength(16);
    expect(kept).toHaveLength(24);
    expect(inFlightAtFailover).toBeGreaterThan(0);
    // It really failed over, and back.
    expect(primaries[0]).not.toBe(firstPrimary);
    expect(primaries[1]).toBe(firstPrimary);

    await stack.expectConverged(kept, deleted, 90_000);
    // The queues live on the primary the sentinels name now.
    expect(await cluster.countKeys(stack.prefix)).toBeGreaterThan(0);
  }, 120_000);

  it('loses no document when the primary is killed mid-flight', async () => {
    const before = await cluster.primaryPort();
    const ids = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        stack.upload(sampleText(`killed-${i}`, 2 + (i % 4)), `k-${i}.txt`),
      ),
    );
    const deleted = ids.filter((_, i) => i % 5 === 1 || i % 5 === 3);
    const kept = ids.filter((id) => !deleted.includes(id));
    const deletions = Promise.all(
      deleted.map(async (id, i) => {
        await new Promise((resolve) => setTimeout(resolve, (i % 4) * 50));
        // Accepted or not, the intention is in PostgreSQL before Redis is asked.
        await stack.documents.delete(stack.ownerId, id);
      }),
    );
    const [{ n: inFlight }] = await stack.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM documents WHERE status IN ('pending', 'processing', 'deleting')`,
    );
    const after = await cluster.killPrimary();
    await deletions;
    expect(inFlight).toBeGreaterThan(0);
    expect(after).not.toBe(before);
    await stack.expectConverged(kept, deleted, 90_000);
    expect(await cluster.countKeys(stack.prefix)).toBeGreaterThan(0);
  }, 120_000);
});
