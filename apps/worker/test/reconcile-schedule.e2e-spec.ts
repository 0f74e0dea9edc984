import { RECONCILER_LOCK_KEY } from '@quarry/documents';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { FAST_MAINTENANCE, ReconcileStack, sampleText, waitFor } from './support/reconcile-stack';

/** The worker's repeatable maintenance job repairs on its own schedule, one runner at a time. */
describe('the scheduled reconciler', () => {
  let stack: ReconcileStack;

  beforeAll(async () => {
    stack = await ReconcileStack.start('schedule', { overrides: FAST_MAINTENANCE });
    await stack.startWorker();
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('repairs drift by itself: orphan points, a stuck delete and a stale ingest', async () => {
    const [stuck, stale] = await Promise.all([
      stack.upload(sampleText('stuck')),
      stack.upload(sampleText('stale')),
    ]);
    await stack.waitForStatus([stuck, stale], 'completed');
    const staleGeneration = (await stack.status(stale)).generation;

    const orphanDocument = randomUUID();
    await stack.vectors.upsertChunks([
      {
        id: randomUUID(),
        vector: Array.from({ length: stack.config.qdrant.dimension }, () => 0.3),
        payload: {
          document_id: orphanDocument,
          collection_id: stack.collectionId,
          owner_id: stack.ownerId,
          generation: 1,
          ordinal: 0,
        },
      },
    ]);
    // a delete recorded in PostgreSQL whose cleanup job never reached Redis
    await stack.query(
      `UPDATE documents SET status = 'deleting', generation = generation + 1,
              updated_at = now() - interval '1 minute' WHERE id = $1`,
      [stuck],
    );
    // an ingest whose worker died an hour ago
    await stack.query(
      `UPDATE documents SET status = 'processing', stage = 'embedding',
              heartbeat_at = now() - interval '1 hour' WHERE id = $1`,
      [stale],
    );

    await waitFor(
      'the orphan point removed',
      async () => ((await stack.vectors.countByDocument(orphanDocument)) === 0 ? true : undefined),
      30_000,
    );
    await stack.waitForStatus([stuck], 'deleted', 30_000);
    await waitFor(
      'the stale document indexed again at a new generation',
      async () => {
        const { status, generation } = await stack.status(stale);
        return status === 'completed' && generation > staleGeneration ? true : undefined;
      },
      30_000,
    );
    expect(await stack.vectors.countByDocument(stuck)).toBe(0);
    expect(await stack.chunkRows(stuck)).toBe(0);
    const report = await stack.integrity.check();
    expect(report.findings.filter((f) => f.count > 0)).toEqual([]);
  });

  it('runs one at a time: while the lock is held elsewhere a run is skipped', async () => {
    const holder = new Client({ connectionString: stack.db.url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1::bigint)', [RECONCILER_LOCK_KEY]);
      await expect(stack.reconciler.reconcile({ fix: true })).resolves.toBeUndefined();
    } finally {
      await holder.query('SELECT pg_advisory_unlock($1::bigint)', [RECONCILER_LOCK_KEY]);
      await holder.end();
    }
    // once it is free, a run goes ahead (the worker's own runs may take it for a moment)
    const report = await waitFor('a free lock', () => stack.reconciler.reconcile({ fix: false }));
    expect(report.fix).toBe(false);
    expect(report.overall).toBe('healthy');
  });
});
