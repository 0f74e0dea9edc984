import { randomUUID } from 'node:crypto';
import { runMigrations, withTryAdvisoryLock } from '@quarry/db';
import { RECONCILER_LOCK_KEY } from '@quarry/documents';
import { createTestDatabase, PgBouncer, testDbOptions } from '@quarry/testing';
import { pointIdFor } from '@quarry/vector';
import { ReconcileStack, sampleText } from './support/reconcile-stack';

/**
 * Quarry through the machine's PgBouncer (Debian's 1.18) in pool_mode=transaction with
 * DB_PREPARED_STATEMENTS=false: migrations, ingestion, search, deletion, reprocessing and
 * the reconciler all run, and the reconciler's lock still keeps a second runner out.
 * PgBouncer 1.18 refuses session parameters at connect and loses named statements between
 * transactions, so any session-bound statement left in these paths fails here.
 */
describe('through PgBouncer in transaction mode', () => {
  let bouncer: PgBouncer;
  let stack: ReconcileStack;

  beforeAll(async () => {
    // Four server connections for two workers and the producer: transactions must share.
    bouncer = await PgBouncer.start({ poolSize: 4 });
  });

  afterAll(async () => {
    await stack?.close();
    await bouncer?.stop();
  });

  it('applies the migrations once when two processes start together', async () => {
    const fresh = await createTestDatabase('pgb_migrate', { migrate: false });
    try {
      const options = { ...testDbOptions(bouncer.urlFor(fresh.url)), preparedStatements: false };
      const applied = await Promise.all([runMigrations(options), runMigrations(options)]);
      expect(applied.map((names) => names.length).sort()).toEqual([0, 2]);
      await expect(runMigrations(options)).resolves.toEqual([]);
      expect((await bouncer.stats(fresh.name)).transactions).toBeGreaterThan(0);
    } finally {
      await fresh.drop();
    }
  });

  it('ingests, searches, deletes, reprocesses and reconciles', async () => {
    stack = await ReconcileStack.start('pgbouncer', {
      overrides: { DB_PREPARED_STATEMENTS: false, WORKER_CONCURRENCY: 2 },
      databaseVia: (direct) => bouncer.urlFor(direct),
    });
    await stack.startWorker();
    await stack.startWorker();

    const ids = await Promise.all(
      Array.from({ length: 12 }, (_, i) => stack.upload(sampleText(`bouncer-${i}`, 2 + (i % 3)))),
    );
    const deleted = ids.filter((_, i) => i % 4 === 1);
    const reprocessed = ids.filter((_, i) => i % 4 === 2);
    const kept = ids.filter((id) => !deleted.includes(id));
    await Promise.all(deleted.map((id) => stack.documents.delete(stack.ownerId, id)));
    await stack.waitForStatus(kept, 'completed', 60_000);
    await Promise.all(reprocessed.map((id) => stack.documents.reprocess(stack.ownerId, id)));
    await stack.waitForStatus(deleted, 'deleted', 60_000);
    await stack.waitForStatus(kept, 'completed', 60_000);
    for (const id of reprocessed) expect((await stack.status(id)).generation).toBeGreaterThan(1);

    // Search reads visibility with the (now unnamed) prepared lookup.
    const found = await stack.searchedDocuments('bouncer paragraph quarry');
    for (const id of deleted) expect(found.has(id)).toBe(false);
    expect([...found].filter((id) => kept.includes(id)).length).toBeGreaterThan(0);

    // Drift for the reconciler: an orphan point and a current chunk without its point.
    const orphan = randomUUID();
    const vector = Array.from({ length: stack.config.qdrant.dimension }, (_, i) => (i ? 0 : 1));
    await stack.vectors.upsertChunks([
      {
        id: pointIdFor(orphan, 1, 0),
        vector: new Float32Array(vector),
        payload: {
          document_id: orphan,
          collection_id: stack.collectionId,
          owner_id: stack.ownerId,
          generation: 1,
          ordinal: 0,
        },
      },
    ]);
    const victim = kept[0];
    await stack.vectors.deletePoints([
      pointIdFor(victim, (await stack.status(victim)).generation, 0),
    ]);

    // While another process holds the lock (through PgBouncer too), the reconciler stands aside.
    const config = stack.configFor('worker');
    const aside = await withTryAdvisoryLock(config.db, RECONCILER_LOCK_KEY, () =>
      stack.reconciler.reconcile({ fix: true }),
    );
    expect(aside).toBeUndefined();

    const fixed = await stack.reconciler.reconcile({ fix: true });
    expect(Object.fromEntries(fixed!.repairs.map((r) => [r.kind, r.count]))).toMatchObject({
      orphan_points: 1,
      missing_points: 1,
    });
    await stack.waitForStatus(kept, 'completed', 60_000);
    const report = await stack.integrity.check();
    expect(report.findings.filter((f) => f.count > 0)).toEqual([]);
    expect(report.overall).toBe('healthy');
    for (const id of deleted) expect(await stack.vectors.countByDocument(id)).toBe(0);

    const stats = await bouncer.stats(stack.db.name);
    expect(stats.transactions).toBeGreaterThan(100);
  });
});
