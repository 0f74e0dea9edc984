import { startIngestHarness, IngestHarness, longText } from './support/ingest-harness';
import { startSlowEmbedder, SlowEmbedder } from './support/slow-embedder';

const OWNER = 'owner-faults';

describe('ingest under faults (real worker processes, PostgreSQL, Redis, Qdrant)', () => {
  let embedder: SlowEmbedder;
  let harness: IngestHarness;
  let collectionId: string;

  beforeAll(async () => {
    embedder = await startSlowEmbedder(120);
    harness = await startIngestHarness('faults', {
      EMBEDDING_PROVIDER: 'openai',
      EMBEDDING_BASE_URL: embedder.url,
      EMBEDDING_MODEL: 'slow-test',
      EMBEDDING_BATCH_SIZE: '2',
      CHUNK_SIZE: '200',
      CHUNK_OVERLAP: '20',
      WORKER_LOCK_DURATION_MS: '3000',
      WORKER_CONCURRENCY: '1',
      SHUTDOWN_GRACE_MS: '2000',
    });
    collectionId = (await harness.collections.create(OWNER, { name: 'faults' })).id;
  }, 60_000);

  afterAll(async () => {
    await harness?.close();
    await embedder?.close();
  });

  async function statusOf(id: string) {
    return harness.documents.status(OWNER, id);
  }

  async function assertConsistent(id: string) {
    const doc = await harness.documents.get(OWNER, id);
    expect(doc.status).toBe('completed');
    const [{ rows, generations }] = await harness.dataSource.query(
      `SELECT count(*)::int AS rows, array_agg(DISTINCT generation) AS generations FROM chunks WHERE document_id = $1`,
      [id],
    );
    expect(rows).toBe(doc.chunkCount);
    expect(generations).toEqual([doc.generation]);
    const points = await harness.pointsOf(id);
    expect(points).toHaveLength(doc.chunkCount);
    expect(new Set(points.map((p) => p.id)).size).toBe(points.length);
    expect(new Set(points.map((p) => p.payload.generation))).toEqual(new Set([doc.generation]));
    const chunkIds: { id: string }[] = await harness.dataSource.query(
      `SELECT id FROM chunks WHERE document_id = $1`,
      [id],
    );
    expect(new Set(points.map((p) => p.id))).toEqual(new Set(chunkIds.map((c) => c.id)));
    return doc;
  }

  it('finishes a document whose worker was SIGKILLed during embedding, without duplicate points', async () => {
    const first = await harness.spawnWorker();
    const upload = await harness.documents.uploadText({
      ownerId: OWNER,
      collectionId,
      title: 'volcanoes',
      text: longText('volcanoes', 40),
    });
    const id = upload.document.id;
    const mid = await harness.waitFor(
      async () => {
        const s = await statusOf(id);
        return s.stage === 'embedding' && s.chunks_done >= 6 ? s : undefined;
      },
      30_000,
      'the document to be mid-embedding',
    );
    expect(mid.chunks_total).toBeGreaterThan(mid.chunks_done);

    first.signal('SIGKILL');
    const exit = await first.waitForExit(10_000);
    expect(exit?.signal).toBe('SIGKILL');
    const afterKill = await statusOf(id);
    expect(afterKill.status).toBe('processing');
    const written = (await harness.pointsOf(id)).length;
    expect(written).toBeGreaterThan(0);

    await harness.spawnWorker();
    await harness.waitFor(
      async () => ((await statusOf(id)).status === 'completed' ? true : undefined),
      90_000,
      'the document to complete on the second worker',
    );
    const doc = await assertConsistent(id);
    expect(doc.attempts).toBeGreaterThanOrEqual(2);
  }, 150_000);

  it('keeps only the newest generation when a document is reprocessed while processing', async () => {
    const upload = await harness.documents.uploadText({
      ownerId: OWNER,
      collectionId,
      title: 'glaciers',
      text: longText('glaciers', 30),
    });
    const id = upload.document.id;
    await harness.waitFor(
      async () => {
        const s = await statusOf(id);
        return s.stage === 'embedding' && s.chunks_done >= 4 ? s : undefined;
      },
      60_000,
      'the document to be mid-embedding',
    );
    const { document } = await harness.documents.reprocess(OWNER, id);
    expect(document.generation).toBe(upload.document.generation + 1);

    await harness.waitFor(
      async () => {
        const s = await statusOf(id);
        return s.status === 'completed' && s.generation === document.generation ? true : undefined;
      },
      90_000,
      'the new generation to complete',
    );
    // The old job stops at its next checkpoint and removes what it wrote; give it a moment.
    await harness.waitFor(
      async () => {
        const points = await harness.pointsOf(id);
        return points.every((p) => p.payload.generation === document.generation) ? true : undefined;
      },
      20_000,
      'old-generation points to be gone',
    );
    const doc = await assertConsistent(id);
    expect(doc.generation).toBe(document.generation);
  }, 150_000);
});
