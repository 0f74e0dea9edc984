import { Inject, Injectable, Logger } from '@nestjs/common';
import { QuarryConfig } from '@quarry/config';
import { DbService, Document, DocumentBlob } from '@quarry/db';
import {
  Chunker,
  DocumentExtractor,
  EMBEDDER,
  Embedder,
  isPermanent,
  type SupportedMimeType,
} from '@quarry/pipeline';
import { ChunkPoint, QdrantGateway, pointIdFor } from '@quarry/vector';
import type { EntityManager } from 'typeorm';
import { DocumentEventsService } from './document-events.service';
import { toEvent } from './document-view';
import { FIRST_GENERATION } from './documents.service';
import { affectedBy, rowsOf } from './sql';

export type IngestOutcome =
  | { status: 'completed'; chunks: number }
  | { status: 'skipped'; reason: string }
  | { status: 'failed'; error: string };

export type IngestStage = 'extracting' | 'chunking' | 'embedding' | 'indexing';

/** The document's generation moved on (reprocess or delete) while this job ran. */
export class GenerationChangedError extends Error {
  constructor(documentId: string, generation: number) {
    super(`document ${documentId} is no longer at generation ${generation}`);
    this.name = 'GenerationChangedError';
  }
}

const HEARTBEAT_MS = 5_000;
// Progress bands per stage, so the bar moves steadily through a long embedding.
const BANDS: Record<IngestStage, [number, number]> = {
  extracting: [0, 10],
  chunking: [10, 15],
  embedding: [15, 95],
  indexing: [95, 99],
};

/**
 * The ingest job, exactly the consistency protocol: claim in one statement, extract →
 * chunk → embed and upsert batch by batch with the generation checked after each, then
 * one transaction swaps the chunk rows and completes the document only if it is still
 * ours. No connection is held across extraction, embedding or a Qdrant call.
 */
@Injectable()
export class IngestService {
  private readonly logger = new Logger('Ingest');

  constructor(
    private readonly db: DbService,
    private readonly vectors: QdrantGateway,
    private readonly extractor: DocumentExtractor,
    private readonly chunker: Chunker,
    @Inject(EMBEDDER) private readonly embedder: Embedder,
    private readonly events: DocumentEventsService,
    private readonly config: QuarryConfig,
  ) {}

  async ingest(
    documentId: string,
    generation: number,
    signal?: AbortSignal,
  ): Promise<IngestOutcome> {
    const claimed = await this.claim(documentId, generation);
    if (!claimed) return { status: 'skipped', reason: 'not pending at this generation' };
    await this.events.publish(toEvent(claimed));

    const heartbeat = setInterval(() => {
      void this.beat(documentId, generation).catch(() => undefined);
    }, HEARTBEAT_MS);
    heartbeat.unref();
    let wrotePoints = false;
    try {
      const blob = await this.db.read((m) =>
        m.getRepository(DocumentBlob).findOne({ where: { documentId } }),
      );
      if (!blob) throw new GenerationChangedError(documentId, generation);

      // The claim itself recorded `extracting` and published it.
      const extracted = await this.extractor.extract(blob.content, {
        mimeType: claimed.mimeType as SupportedMimeType,
        filename: claimed.filename,
      });
      signal?.throwIfAborted();

      await this.progress(claimed, 'chunking', 0, undefined, { persist: false });
      const chunks = this.chunker.chunkDocument(extracted);
      await this.progress(claimed, 'embedding', 0, { done: 0, total: chunks.length });

      const batchSize = this.config.embedding.batchSize;
      for (let start = 0; start < chunks.length; start += batchSize) {
        signal?.throwIfAborted();
        const batch = chunks.slice(start, start + batchSize);
        const vectors = await this.embedder.embed(
          batch.map((c) => c.text),
          { signal },
        );
        const points: ChunkPoint[] = batch.map((chunk, i) => ({
          id: pointIdFor(documentId, generation, chunk.ordinal),
          vector: vectors[i],
          payload: {
            document_id: documentId,
            collection_id: claimed.collectionId,
            owner_id: claimed.ownerId,
            generation,
            ordinal: chunk.ordinal,
          },
        }));
        wrotePoints = true;
        await this.vectors.upsertChunks(points);
        const done = start + batch.length;
        // The progress write is also the fence: it matches only our generation.
        await this.progress(claimed, 'embedding', done / chunks.length, {
          done,
          total: chunks.length,
        });
      }

      // The swap below checks the generation itself; `indexing` is only announced.
      await this.progress(
        claimed,
        'indexing',
        0,
        { done: chunks.length, total: chunks.length },
        { persist: false },
      );
      const completed = await this.db.transaction(async (m) => {
        const locked: { id: string }[] = await m.query(
          `SELECT id FROM documents WHERE id = $1 AND generation = $2 AND status = 'processing' FOR UPDATE`,
          [documentId, generation],
        );
        if (locked.length === 0) return undefined;
        await m.query(`DELETE FROM chunks WHERE document_id = $1`, [documentId]);
        await insertChunks(m, documentId, generation, chunks);
        const rows = await rowsOf<{ id: string }>(
          m,
          `UPDATE documents
              SET status = 'completed', stage = 'completed', progress = 100, error = NULL,
                  chunk_count = $3, chunks_done = $3, chunks_total = $3, embedding_model = $4,
                  heartbeat_at = NULL, processing_completed_at = now(), updated_at = now()
            WHERE id = $1 AND generation = $2
          RETURNING id`,
          [documentId, generation, chunks.length, this.embedder.model],
        );
        return rows.length === 1;
      });
      if (!completed) throw new GenerationChangedError(documentId, generation);
      // Old generations' points go only after the swap, so search never had a gap. A
      // first generation has no older points: skip the call on the common path.
      if (generation > FIRST_GENERATION) {
        await this.vectors
          .deleteByDocument(documentId, { exceptGeneration: generation })
          .catch((err: unknown) =>
            this.logger.warn(`old points of ${documentId} left for the reconciler: ${String(err)}`),
          );
      }
      await this.publishCurrent(documentId);
      return { status: 'completed', chunks: chunks.length };
    } catch (err) {
      if (err instanceof GenerationChangedError) {
        if (wrotePoints) await this.removeOwnPoints(documentId, generation);
        return { status: 'skipped', reason: err.message };
      }
      if (isPermanent(err)) {
        const message = err instanceof Error ? err.message : String(err);
        await this.fail(documentId, generation, message);
        if (wrotePoints) await this.removeOwnPoints(documentId, generation);
        return { status: 'failed', error: message };
      }
      // Transient: back to pending so the retry can claim it; BullMQ schedules the retry.
      await this.releaseForRetry(documentId, generation, err).catch(() => undefined);
      throw err;
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** pending → processing at this generation, in one statement; also re-claims after a crash. */
  private async claim(documentId: string, generation: number): Promise<Document | undefined> {
    const rows = await rowsOf<{ id: string }>(
      this.db.manager(),
      `UPDATE documents
          SET status = 'processing', stage = 'extracting', progress = 0, error = NULL,
              chunks_done = 0, chunks_total = 0, attempts = attempts + 1,
              heartbeat_at = now(), processing_started_at = now(), updated_at = now()
        WHERE id = $1 AND generation = $2 AND status IN ('pending', 'processing')
      RETURNING id`,
      [documentId, generation],
    );
    if (rows.length === 0) return undefined;
    return (
      (await this.db
        .manager()
        .getRepository(Document)
        .findOne({ where: { id: documentId } })) ?? undefined
    );
  }

  private async beat(documentId: string, generation: number): Promise<void> {
    await this.db
      .manager()
      .query(
        `UPDATE documents SET heartbeat_at = now() WHERE id = $1 AND generation = $2 AND status = 'processing'`,
        [documentId, generation],
      );
  }

  /**
   * Publishes stage and percent, and (unless `persist` is false, for stages that last
   * milliseconds) writes them; a write that matches no row means the document is no
   * longer ours: GenerationChangedError.
   */
  private async progress(
    doc: Document,
    stage: IngestStage,
    fraction: number,
    chunks?: { done: number; total: number },
    { persist = true }: { persist?: boolean } = {},
  ): Promise<void> {
    const [from, to] = BANDS[stage];
    const percent = Math.min(
      99,
      Math.round(from + (to - from) * Math.min(1, Math.max(0, fraction))),
    );
    if (persist) {
      const changed = await affectedBy(
        this.db.manager(),
        `UPDATE documents
            SET stage = $3, progress = $4, chunks_done = COALESCE($5, chunks_done),
                chunks_total = COALESCE($6, chunks_total), heartbeat_at = now(), updated_at = now()
          WHERE id = $1 AND generation = $2 AND status = 'processing'`,
        [doc.id, doc.generation, stage, percent, chunks?.done ?? null, chunks?.total ?? null],
      );
      if (changed === 0) throw new GenerationChangedError(doc.id, doc.generation);
    }
    doc.stage = stage;
    doc.progress = percent;
    if (chunks) {
      doc.chunksDone = chunks.done;
      doc.chunksTotal = chunks.total;
    }
    await this.events.publish(toEvent(doc));
  }

  /** Marks the document failed (no retry will help) if it is still ours. */
  async fail(documentId: string, generation: number, message: string): Promise<void> {
    await this.db.manager().query(
      `UPDATE documents
          SET status = 'failed', stage = 'failed', error = $3, heartbeat_at = NULL, updated_at = now()
        WHERE id = $1 AND generation = $2 AND status IN ('pending', 'processing')`,
      [documentId, generation, message.slice(0, 2000)],
    );
    await this.publishCurrent(documentId);
  }

  /** Gives a running document back (`processing` → `pending`), e.g. at the end of a shutdown grace. */
  async handBack(documentId: string, generation: number, note: string): Promise<void> {
    await this.db.manager().query(
      `UPDATE documents
          SET status = 'pending', stage = NULL, error = $3, heartbeat_at = NULL, updated_at = now()
        WHERE id = $1 AND generation = $2 AND status = 'processing'`,
      [documentId, generation, note],
    );
  }

  private async releaseForRetry(
    documentId: string,
    generation: number,
    err: unknown,
  ): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    await this.db.manager().query(
      `UPDATE documents
          SET status = 'pending', stage = 'waiting to retry', error = $3, heartbeat_at = NULL, updated_at = now()
        WHERE id = $1 AND generation = $2 AND status = 'processing'`,
      [documentId, generation, `attempt failed, will retry: ${message}`.slice(0, 2000)],
    );
    await this.publishCurrent(documentId);
  }

  private async removeOwnPoints(documentId: string, generation: number): Promise<void> {
    await this.vectors.deleteByDocument(documentId, { generation }).catch((err: unknown) => {
      this.logger.warn(
        `points of ${documentId}@${generation} left for the reconciler: ${String(err)}`,
      );
    });
  }

  private async publishCurrent(documentId: string): Promise<void> {
    const doc = await this.db
      .manager()
      .getRepository(Document)
      .findOne({ where: { id: documentId } });
    if (doc) await this.events.publish(toEvent(doc));
  }
}

async function insertChunks(
  m: EntityManager,
  documentId: string,
  generation: number,
  chunks: readonly {
    ordinal: number;
    text: string;
    tokenCount: number;
    page?: number;
    charStart: number;
    charEnd: number;
  }[],
): Promise<void> {
  const perStatement = 500;
  for (let start = 0; start < chunks.length; start += perStatement) {
    const slice = chunks.slice(start, start + perStatement);
    const params: unknown[] = [];
    const values = slice.map((c) => {
      params.push(
        pointIdFor(documentId, generation, c.ordinal),
        documentId,
        generation,
        c.ordinal,
        c.text,
        c.tokenCount,
        c.page ?? null,
        c.charStart,
        c.charEnd,
      );
      const n = params.length;
      return `($${n - 8}, $${n - 7}, $${n - 6}, $${n - 5}, $${n - 4}, $${n - 3}, $${n - 2}, $${n - 1}, $${n})`;
    });
    await m.query(
      `INSERT INTO chunks (id, document_id, generation, ordinal, text, token_count, page, char_start, char_end)
       VALUES ${values.join(', ')}`,
      params,
    );
  }
}
