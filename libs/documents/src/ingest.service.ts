import { Inject, Injectable, Logger } from '@nestjs/common';
import { QuarryConfig } from '@quarry/config';
import { DbService, Document, DocumentStatus } from '@quarry/db';
import {
  type Chunk,
  Chunker,
  DocumentExtractor,
  EMBEDDER,
  Embedder,
  isPermanent,
  type SupportedMimeType,
} from '@quarry/pipeline';
import { ChunkPoint, QdrantGateway, pointIdFor } from '@quarry/vector';
import { escapeLiteral } from 'pg';
import { DocumentEventsService } from './document-events.service';
import { EventSource, toEvent } from './document-view';
import { FIRST_GENERATION, isUuid } from './documents.service';
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

/** The claimed document: what the job and its progress events need of it. */
type Claimed = EventSource & Pick<Document, 'collectionId' | 'ownerId' | 'filename' | 'mimeType'>;

interface ClaimedRow {
  id: string;
  generation: number;
  status: DocumentStatus;
  stage: string | null;
  progress: number;
  error: string | null;
  chunks_done: number;
  chunks_total: number;
  collection_id: string;
  owner_id: string;
  filename: string;
  mime_type: string;
  /** the original bytes (document_blobs), null when the row is gone */
  content: Buffer | null;
}

function claimedOf(row: ClaimedRow): Claimed {
  return {
    id: row.id,
    generation: row.generation,
    status: row.status,
    stage: row.stage,
    progress: row.progress,
    error: row.error,
    chunksDone: row.chunks_done,
    chunksTotal: row.chunks_total,
    collectionId: row.collection_id,
    ownerId: row.owner_id,
    filename: row.filename,
    mimeType: row.mime_type,
  };
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
    const claim = await this.claim(documentId, generation);
    if (!claim) return { status: 'skipped', reason: 'not pending at this generation' };
    const { claimed, content } = claim;
    void this.events.publish(toEvent(claimed));

    const heartbeat = setInterval(() => {
      void this.beat(documentId, generation).catch(() => undefined);
    }, HEARTBEAT_MS);
    heartbeat.unref();
    let wrotePoints = false;
    let staged: Promise<boolean> | undefined;
    try {
      if (!content) throw new GenerationChangedError(documentId, generation);

      // The claim itself recorded `extracting` and published it. The thread chunks too, so
      // a document at the size caps costs this event loop nothing.
      const { chunks } = await this.extractor.extractAndChunk(
        content,
        { mimeType: claimed.mimeType as SupportedMimeType, filename: claimed.filename },
        this.chunker,
      );
      signal?.throwIfAborted();
      await this.progress(claimed, 'chunking', 0, undefined, { persist: false });
      // PostgreSQL indexes the chunk rows while the embedder and Qdrant work; the rows are
      // invisible until the swap below completes the document at this generation.
      staged = handled(this.stageChunks(documentId, generation, chunks));
      // Each progress write is also the fence: it matches only our generation, and no
      // batch is upserted before the previous write confirmed it. The write overlaps the
      // next batch's embedding instead of delaying it.
      let fence = handled(
        this.progress(claimed, 'embedding', 0, { done: 0, total: chunks.length }),
      );
      await yieldToIo();

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
        await fence;
        wrotePoints = true;
        await this.vectors.upsertChunks(points);
        const done = start + batch.length;
        fence = handled(
          this.progress(claimed, 'embedding', done / chunks.length, {
            done,
            total: chunks.length,
          }),
        );
        await yieldToIo();
      }
      await fence;
      if (!(await staged)) throw new GenerationChangedError(documentId, generation);

      // The swap below checks the generation itself; `indexing` is only announced.
      await this.progress(
        claimed,
        'indexing',
        0,
        { done: chunks.length, total: chunks.length },
        { persist: false },
      );
      const completed = await this.swap(documentId, generation, chunks.length);
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
      await this.events.publish(
        toEvent({
          ...claimed,
          status: DocumentStatus.Completed,
          stage: 'completed',
          progress: 100,
          error: null,
          chunksDone: chunks.length,
          chunksTotal: chunks.length,
        }),
      );
      return { status: 'completed', chunks: chunks.length };
    } catch (err) {
      // Whatever happens next, the rows being staged are in (or not) first: a failure
      // removes them, and no statement outlives the job.
      await staged?.catch(() => undefined);
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

  /**
   * pending → processing at this generation, in one statement that also reads the
   * original bytes; also re-claims after a crash.
   */
  private async claim(
    documentId: string,
    generation: number,
  ): Promise<{ claimed: Claimed; content: Buffer | null } | undefined> {
    const [row] = await rowsOf<ClaimedRow>(
      this.db.manager(),
      `WITH claimed AS (
         UPDATE documents
            SET status = 'processing', stage = 'extracting', progress = 0, error = NULL,
                chunks_done = 0, chunks_total = 0, attempts = attempts + 1,
                heartbeat_at = now(), processing_started_at = now(), updated_at = now()
          WHERE id = $1 AND generation = $2 AND status IN ('pending', 'processing')
        RETURNING id, generation, status, stage, progress, error, chunks_done, chunks_total,
                  collection_id, owner_id, filename, mime_type
       )
       SELECT claimed.*, b.content
         FROM claimed LEFT JOIN document_blobs b ON b.document_id = claimed.id`,
      [documentId, generation],
    );
    if (!row) return undefined;
    return { claimed: claimedOf(row), content: row.content };
  }

  /**
   * The swap, in one round trip: lock the document if it is still ours, drop older
   * generations' rows and the rows an earlier attempt staged past today's end, complete
   * it. The DELETE and the UPDATE check ownership again under the lock, so when the lock
   * found nothing they change nothing. False when the document is no longer ours.
   */
  private async swap(documentId: string, generation: number, chunkCount: number): Promise<boolean> {
    if (
      !isUuid(documentId) ||
      !Number.isSafeInteger(generation) ||
      !Number.isSafeInteger(chunkCount)
    ) {
      throw new TypeError(
        `swap of ${documentId}@${generation} (${chunkCount} chunks): bad arguments`,
      );
    }
    // Inlined, since one round trip means the simple protocol: validated just above.
    const ours = `id = '${documentId}' AND generation = ${generation} AND status = 'processing'`;
    const [, , completed] = await this.db.oneTripTransaction([
      `SELECT id FROM documents WHERE ${ours} FOR UPDATE`,
      `DELETE FROM chunks
        WHERE document_id = '${documentId}' AND (generation <> ${generation} OR ordinal >= ${chunkCount})
          AND EXISTS (SELECT 1 FROM documents WHERE ${ours})`,
      `UPDATE documents
          SET status = 'completed', stage = 'completed', progress = 100, error = NULL,
              chunk_count = ${chunkCount}, chunks_done = ${chunkCount}, chunks_total = ${chunkCount},
              embedding_model = ${escapeLiteral(this.embedder.model)},
              heartbeat_at = NULL, processing_completed_at = now(), updated_at = now()
        WHERE ${ours}
      RETURNING id`,
    ]);
    return completed.rowCount === 1;
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
    doc: Claimed,
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
    // Not awaited: events go out in order on one connection, and the fence is the write.
    void this.events.publish(toEvent(doc));
  }

  /**
   * Writes this generation's chunk rows in one statement, only while the document is
   * processing at this generation. It holds the document row FOR KEY SHARE, which lets
   * progress writes through but makes every statement that removes a document's rows
   * after a delete or reprocess (cleanup, the next generation's swap: both lock the row
   * FOR UPDATE first) wait for it and then see what it wrote. A retried attempt rewrites
   * the rows it staged before (the ids are deterministic). False when the document is no
   * longer ours.
   */
  private async stageChunks(
    documentId: string,
    generation: number,
    chunks: readonly Chunk[],
  ): Promise<boolean> {
    if (chunks.length === 0) return true;
    const [{ staged }] = await rowsOf<{ staged: number }>(
      this.db.manager(),
      `WITH doc AS (
         SELECT id FROM documents
          WHERE id = $1 AND generation = $2 AND status = 'processing'
            FOR KEY SHARE
       ), written AS (
         INSERT INTO chunks (id, document_id, generation, ordinal, text, token_count, page, char_start, char_end)
         SELECT c.id, doc.id, $2, c.ordinal, c.text, c.token_count, c.page, c.char_start, c.char_end
           FROM doc, unnest($3::uuid[], $4::int[], $5::text[], $6::int[], $7::int[], $8::int[], $9::int[])
                  AS c(id, ordinal, text, token_count, page, char_start, char_end)
         ON CONFLICT (id) DO UPDATE
            SET text = EXCLUDED.text, token_count = EXCLUDED.token_count, page = EXCLUDED.page,
                char_start = EXCLUDED.char_start, char_end = EXCLUDED.char_end
         RETURNING 1
       )
       SELECT count(*)::int AS staged FROM written`,
      [
        documentId,
        generation,
        chunks.map((c) => pointIdFor(documentId, generation, c.ordinal)),
        chunks.map((c) => c.ordinal),
        chunks.map((c) => c.text),
        chunks.map((c) => c.tokenCount),
        chunks.map((c) => c.page ?? null),
        chunks.map((c) => c.charStart),
        chunks.map((c) => c.charEnd),
      ],
    );
    return staged === chunks.length;
  }

  /** Marks the document failed (no retry will help) if it is still ours. */
  async fail(documentId: string, generation: number, message: string): Promise<void> {
    // The rows an attempt staged go with the failure: a failed document has no chunks.
    await this.db.manager().query(
      `WITH failed AS (
         UPDATE documents
            SET status = 'failed', stage = 'failed', error = $3, heartbeat_at = NULL, updated_at = now()
          WHERE id = $1 AND generation = $2 AND status IN ('pending', 'processing')
         RETURNING id
       )
       DELETE FROM chunks WHERE document_id IN (SELECT id FROM failed) AND generation = $2`,
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

/** Marks a promise as handled now (it is awaited later), so an early failure elsewhere never leaves it unhandled. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/** One turn of the event loop, so statements just issued go out before synchronous work. */
function yieldToIo(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
