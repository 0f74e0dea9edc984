import { pointIdFor } from '@quarry/vector';
import type { IntegrityReport } from '@quarry/documents';
import { randomUUID } from 'node:crypto';
import { ReconcileStack, sampleText } from './support/reconcile-stack';

const countOf = (report: IntegrityReport, kind: string) =>
  report.findings.find((f) => f.kind === kind)?.count;

const nonZero = (report: IntegrityReport) =>
  Object.fromEntries(report.findings.filter((f) => f.count > 0).map((f) => [f.kind, f.count]));

describe('integrity check and fix against drift seeded behind Quarry’s back', () => {
  let stack: ReconcileStack;

  beforeAll(async () => {
    // The scheduled reconciler stays out of the way: this file drives check and fix itself.
    stack = await ReconcileStack.start('integrity', {
      overrides: { RECONCILE_INTERVAL_MS: 3_600_000, STALE_HEARTBEAT_MS: 60_000 },
    });
    await stack.startWorker();
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('finds each kind of drift with exact counts, repairs it, and checks healthy again', async () => {
    const [a, b, c, d] = await Promise.all(
      ['alpha', 'bravo', 'charlie', 'delta'].map((s) => stack.upload(sampleText(s), `${s}.txt`)),
    );
    await stack.waitForStatus([a, b, c, d], 'completed');

    const clean = await stack.integrity.check();
    expect(nonZero(clean)).toEqual({});
    expect(clean.overall).toBe('healthy');
    expect(clean.totals.pointsScanned).toBeGreaterThanOrEqual(4);

    const docA = await stack.status(a);
    const docB = await stack.status(b);
    const vector = Array.from({ length: stack.config.qdrant.dimension }, (_, i) =>
      i === 0 ? 1 : 0,
    );
    const payload = (documentId: string, generation: number, ordinal: number) => ({
      document_id: documentId,
      collection_id: stack.collectionId,
      owner_id: stack.ownerId,
      generation,
      ordinal,
    });
    // 3 points of documents that never existed, 1 of an old generation of A
    const unknown = randomUUID();
    await stack.vectors.upsertChunks([
      { id: pointIdFor(unknown, 1, 0), vector, payload: payload(unknown, 1, 0) },
      { id: pointIdFor(unknown, 1, 1), vector, payload: payload(unknown, 1, 1) },
      { id: randomUUID(), vector, payload: payload(randomUUID(), 1, 0) },
      {
        id: pointIdFor(a, docA.generation - 1, 0),
        vector,
        payload: payload(a, docA.generation - 1, 0),
      },
    ]);
    // one chunk row of C removed: its point has nothing behind it any more
    await stack.query(
      `DELETE FROM chunks WHERE id = (SELECT id FROM chunks WHERE document_id = $1 ORDER BY ordinal LIMIT 1)`,
      [c],
    );
    // one point of B removed: a current chunk with no point
    await stack.vectors.deletePoints([pointIdFor(b, docB.generation, 1)]);
    // D looks like it is processing, but nobody has beaten its heart for an hour
    await stack.query(
      `UPDATE documents SET status = 'processing', stage = 'embedding',
              heartbeat_at = now() - interval '1 hour' WHERE id = $1`,
      [d],
    );

    const drift = await stack.integrity.check();
    expect(drift.overall).toBe('warning');
    expect(drift.fix).toBe(false);
    expect(nonZero(drift)).toEqual({
      orphan_points: 5,
      missing_points: 1,
      stale_processing: 1,
    });
    const orphans = drift.findings.find((f) => f.kind === 'orphan_points');
    expect(orphans?.examples).toHaveLength(5);
    expect(orphans?.examples).toContain(pointIdFor(unknown, 1, 0));
    expect(drift.findings.find((f) => f.kind === 'missing_points')?.examples).toEqual([b]);
    expect(drift.findings.find((f) => f.kind === 'stale_processing')?.examples).toEqual([d]);
    expect(drift.repairs).toEqual([]);
    expect(Object.keys(drift.timings)).toEqual(
      expect.arrayContaining(['postgres', 'redis', 'qdrant', 'orphan_points', 'missing_points']),
    );

    // a dry run changed nothing
    expect(nonZero(await stack.integrity.check())).toEqual(nonZero(drift));

    const fixed = await stack.reconciler.reconcile({ fix: true });
    expect(fixed?.fix).toBe(true);
    expect(Object.fromEntries(fixed!.repairs.map((r) => [r.kind, r.count]))).toEqual({
      orphan_points: 5,
      missing_points: 1,
      stale_processing: 1,
    });
    expect(await stack.vectors.countByDocument(unknown)).toBe(0);

    // B, C (re-indexed) and D (handed back) run again at a new generation
    await stack.waitForStatus([a, b, c, d], 'completed');
    expect((await stack.status(b)).generation).toBe(docB.generation + 1);
    const [{ error }] = await stack.query<{ error: string | null }>(
      `SELECT error FROM documents WHERE id = $1`,
      [d],
    );
    expect(error).toBeNull();

    const after = await stack.integrity.check();
    expect(nonZero(after)).toEqual({});
    expect(after.overall).toBe('healthy');
    for (const id of [a, b, c, d]) {
      const { generation } = await stack.status(id);
      expect(await stack.vectors.countByDocument(id)).toBe(await stack.chunkRows(id));
      expect(await stack.vectors.countByDocument(id, { generation })).toBe(
        await stack.chunkRows(id),
      );
    }
    expect(countOf(after, 'orphan_points')).toBe(0);
  });

  it('does not call the points of a document being indexed orphans', async () => {
    const id = await stack.upload(sampleText('echo'), 'echo.txt');
    await stack.waitForStatus([id], 'completed');
    const { generation } = await stack.status(id);
    // the state an ingest is in between its upserts and its commit: points, no chunk rows
    await stack.query(`DELETE FROM chunks WHERE document_id = $1`, [id]);
    await stack.query(
      `UPDATE documents SET status = 'processing', stage = 'indexing', heartbeat_at = now() WHERE id = $1`,
      [id],
    );
    const points = await stack.vectors.countByDocument(id, { generation });
    expect(points).toBeGreaterThan(0);
    const report = await stack.integrity.check({ fix: true });
    expect(countOf(report, 'orphan_points')).toBe(0);
    expect(await stack.vectors.countByDocument(id, { generation })).toBe(points);
  });

  it('reports critical when the collection has the wrong dimension', async () => {
    const { IntegrityService } = await import('@quarry/documents');
    const { QdrantGateway } = await import('@quarry/vector');
    const wrong = new QdrantGateway({
      url: stack.config.qdrant.url,
      collection: `${stack.collection}_wrong`,
      dimension: 8,
      timeoutMs: 5_000,
    });
    await wrong.bootstrap();
    try {
      const config = stack.configFor('api', { QDRANT_COLLECTION: `${stack.collection}_wrong` });
      const integrity = new IntegrityService(stack.dbService, stack.jobs, wrong, config);
      const report = await integrity.check();
      expect(report.overall).toBe('critical');
      expect(countOf(report, 'collection_mismatch')).toBe(1);
      expect(report.findings.find((f) => f.kind === 'collection_mismatch')?.message).toMatch(
        /8 dimensions.*384/,
      );
    } finally {
      await wrong.deleteCollection().catch(() => undefined);
      await wrong.close();
    }
  });
});
