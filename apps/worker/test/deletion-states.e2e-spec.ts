import { DocumentStatus } from '@quarry/db';
import { QueueName } from '@quarry/queue';
import { GatedEmbedder, startGatedEmbedder } from './support/gated-embedder';
import { FAST_MAINTENANCE, ReconcileStack, sampleText, waitFor } from './support/reconcile-stack';

/**
 * A delete is accepted in every state and always ends in a `deleted` tombstone with no
 * points and no chunk rows, and the document leaves listings at once.
 */
describe('delete in every state', () => {
  let embedder: GatedEmbedder;
  let stack: ReconcileStack;

  beforeAll(async () => {
    embedder = await startGatedEmbedder();
    stack = await ReconcileStack.start('deletion_states', {
      overrides: {
        ...FAST_MAINTENANCE,
        EMBEDDING_PROVIDER: 'openai',
        EMBEDDING_BASE_URL: embedder.url,
        EMBEDDING_BATCH_SIZE: 2,
      },
    });
    await stack.startWorker();
  });

  afterAll(async () => {
    embedder?.release();
    await stack?.close();
    await embedder?.close();
  });

  const listed = async (id: string) =>
    (await stack.documents.list(stack.ownerId, { limit: 500 })).items.some((d) => d.id === id);

  /** The 202's shape, then invisibility at once, then the tombstone with nothing left. */
  async function deleteAndExpectGone(id: string, searchFor?: string): Promise<void> {
    const accepted = await stack.documents.delete(stack.ownerId, id);
    expect(accepted).toEqual({
      document_id: id,
      status: 'deleting',
      job_id: expect.stringMatching(/^cleanup-/),
    });
    expect(await listed(id)).toBe(false);
    if (searchFor) expect((await stack.searchedDocuments(searchFor)).has(id)).toBe(false);
    await stack.waitForStatus([id], 'deleted', 30_000);
    await expectNothingLeft(id);
  }

  async function expectNothingLeft(id: string): Promise<void> {
    expect(await stack.vectors.countByDocument(id)).toBe(0);
    expect(await stack.chunkRows(id)).toBe(0);
    const blobs = await stack.query(`SELECT 1 FROM document_blobs WHERE document_id = $1`, [id]);
    expect(blobs).toHaveLength(0);
    expect(await listed(id)).toBe(false);
    const withDeleted = await stack.documents.list(stack.ownerId, {
      limit: 500,
      includeDeleted: true,
    });
    expect(withDeleted.items.find((d) => d.id === id)?.status).toBe('deleted');
  }

  it('pending: the ingest that comes later finds nothing to do', async () => {
    const ingest = stack.jobs.queue(QueueName.Ingest);
    await ingest.pause();
    try {
      const id = await stack.upload(sampleText('pending'));
      expect((await stack.status(id)).status).toBe('pending');
      await deleteAndExpectGone(id);
    } finally {
      await ingest.resume();
    }
  });

  it('processing, embedding: points already written are removed and later ones fenced out', async () => {
    embedder.hold(1);
    const before = embedder.requests;
    const id = await stack.upload(sampleText('embedding', 10));
    try {
      await embedder.waitForRequests(before + 2); // the second batch is held
      await waitFor('first batch indexed', async () =>
        (await stack.vectors.countByDocument(id)) > 0 ? true : undefined,
      );
      expect(await stack.status(id)).toMatchObject({ status: 'processing', stage: 'embedding' });
      const accepted = await stack.documents.delete(stack.ownerId, id);
      expect(accepted.status).toBe('deleting');
      expect(await listed(id)).toBe(false);
      // keyword only while the embedder is held (the other modes embed the query)
      expect((await stack.searchedDocuments('embedding', ['keyword'])).has(id)).toBe(false);
    } finally {
      embedder.release(); // the ingest goes on, sees the generation moved, and stops
    }
    expect((await stack.searchedDocuments('embedding')).has(id)).toBe(false);
    await stack.waitForStatus([id], 'deleted');
    // anything the fenced-out ingest wrote after the cleanup is gone too
    await waitFor('no points of the deleted document', async () =>
      (await stack.vectors.countByDocument(id)) === 0 ? true : undefined,
    );
    await expectNothingLeft(id);
  });

  it.each(['extracting', 'chunking', 'indexing'])(
    'processing, %s: a worker mid-stage (points written, heartbeat fresh) is fenced out',
    async (stage) => {
      const id = await stack.upload(sampleText(stage));
      await stack.waitForStatus([id], 'completed');
      expect(await stack.vectors.countByDocument(id)).toBeGreaterThan(0);
      // the row as a worker in that stage leaves it: processing, its points at this generation
      await stack.query(
        `UPDATE documents SET status = 'processing', stage = $2, heartbeat_at = now() WHERE id = $1`,
        [id, stage],
      );
      await deleteAndExpectGone(id, stage);
    },
  );

  it('processing, at whatever moment: deletes racing live ingests all end deleted', async () => {
    const ids = await Promise.all(
      Array.from({ length: 8 }, (_, i) => stack.upload(sampleText(`race-${i}`, 4))),
    );
    const seen = new Set<string>();
    await Promise.all(
      ids.map(async (id, i) => {
        await new Promise((resolve) => setTimeout(resolve, i * 40));
        const { status, stage } = await stack.status(id);
        seen.add(stage ? `${status}/${stage}` : status);
        expect((await stack.documents.delete(stack.ownerId, id)).status).toBe('deleting');
        expect(await listed(id)).toBe(false);
      }),
    );
    await stack.waitForStatus(ids, 'deleted');
    await waitFor('no points of the deleted documents', async () => {
      const counts = await Promise.all(ids.map((id) => stack.vectors.countByDocument(id)));
      return counts.every((n) => n === 0) ? true : undefined;
    });
    for (const id of ids) await expectNothingLeft(id);
    expect(seen.size).toBeGreaterThan(0);
  });

  it('completed: found by every search mode before, by none from the 202 on', async () => {
    const id = await stack.upload(sampleText('quartzite'));
    await stack.waitForStatus([id], 'completed');
    expect(await stack.chunkRows(id)).toBeGreaterThan(0);
    expect((await stack.searchedDocuments('quartzite')).has(id)).toBe(true);
    await deleteAndExpectGone(id, 'quartzite');
    expect((await stack.searchedDocuments('quartzite')).has(id)).toBe(false);
  });

  it('failed', async () => {
    const { document } = await stack.documents.upload({
      ownerId: stack.ownerId,
      collectionId: stack.collectionId,
      filename: 'broken.pdf',
      bytes: Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >>\nthis is not a real pdf\n%%EOF'),
      force: true,
    });
    await stack.waitForStatus([document.id], DocumentStatus.Failed, 45_000);
    await deleteAndExpectGone(document.id);
  });

  it('already deleting: a second delete is accepted too and both converge', async () => {
    const id = await stack.upload(sampleText('twice'));
    await stack.waitForStatus([id], 'completed');
    const cleanup = stack.jobs.queue(QueueName.Cleanup);
    await cleanup.pause();
    try {
      const first = await stack.documents.delete(stack.ownerId, id);
      const second = await stack.documents.delete(stack.ownerId, id);
      expect(first.status).toBe('deleting');
      expect(second.status).toBe('deleting');
      expect(second.job_id).not.toBe(first.job_id);
      expect(await listed(id)).toBe(false);
    } finally {
      await cleanup.resume();
    }
    await stack.waitForStatus([id], 'deleted');
    await expectNothingLeft(id);
    // and once deleted, a delete answers at once without a job
    expect(await stack.documents.delete(stack.ownerId, id)).toEqual({
      document_id: id,
      status: 'deleted',
      job_id: null,
    });
  });

  it('leaves the system healthy', async () => {
    const report = await stack.integrity.check();
    expect(report.findings.filter((f) => f.count > 0)).toEqual([]);
  });
});
