import { Inject, Injectable } from '@nestjs/common';
import { QuarryConfig } from '@quarry/config';
import { DbService } from '@quarry/db';
import { EMBEDDER, Embedder } from '@quarry/pipeline';
import { ChunkPoint, QdrantGateway } from '@quarry/vector';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { rowsOf } from '../sql';

export interface ReindexOptions {
  /** only the documents of this collection */
  collectionId?: string;
  /** continue after the last document a previous run finished */
  resume?: boolean;
  /** documents read from PostgreSQL per page */
  pageSize?: number;
  onProgress?: (progress: ReindexProgress) => void;
}

export interface ReindexProgress {
  totalChunks: number;
  doneChunks: number;
  documents: number;
  /** chunks per second since this run started */
  rate: number;
}

export interface ReindexReport {
  collectionId: string | null;
  resumedAfter: string | null;
  documents: number;
  chunks: number;
  points: number;
  durationMs: number;
  rate: number;
  checkpoint: string;
}

interface Checkpoint {
  database: string;
  vectorCollection: string;
  collectionId: string | null;
  lastDocumentId: string | null;
  doneChunks: number;
  finishedAt: string | null;
  updatedAt: string;
}

interface DocumentRow {
  id: string;
  generation: number;
  collection_id: string;
  owner_id: string;
}

/**
 * Rebuilds the Qdrant points from PostgreSQL, the source of truth: every current chunk
 * of every completed document is embedded again with the configured embedder and
 * upserted under its chunk's id (the point id), so running it twice writes the same points.
 * Documents are taken in id order and a checkpoint file records the last one finished;
 * `resume` continues from there after an interruption.
 */
@Injectable()
export class ReindexService {
  constructor(
    private readonly db: DbService,
    private readonly vectors: QdrantGateway,
    private readonly config: QuarryConfig,
    @Inject(EMBEDDER) private readonly embedder: Embedder,
  ) {}

  /** Where the checkpoint of this database, Qdrant collection and filter lives. */
  checkpointFile(collectionId?: string): string {
    const dir = process.env.QUARRY_STATE_DIR ?? path.resolve('.data');
    const database = new URL(this.config.db.url).pathname.slice(1);
    const scope = collectionId ?? 'all';
    return path.join(dir, 'reindex', `${database}-${this.config.qdrant.collection}-${scope}.json`);
  }

  async reindex(options: ReindexOptions = {}): Promise<ReindexReport> {
    const started = Date.now();
    const collectionId = options.collectionId ?? null;
    const file = this.checkpointFile(options.collectionId);
    const previous = options.resume ? readCheckpoint(file) : undefined;
    const resumeAfter = previous && !previous.finishedAt ? previous.lastDocumentId : null;

    await this.vectors.bootstrap();
    const totalChunks = await this.countChunks(collectionId, null);
    const alreadyDone = resumeAfter
      ? totalChunks - (await this.countChunks(collectionId, resumeAfter))
      : 0;
    const checkpoint: Checkpoint = {
      database: new URL(this.config.db.url).pathname.slice(1),
      vectorCollection: this.config.qdrant.collection,
      collectionId,
      lastDocumentId: resumeAfter,
      doneChunks: alreadyDone,
      finishedAt: null,
      updatedAt: new Date().toISOString(),
    };
    writeCheckpoint(file, checkpoint);

    let documents = 0;
    let chunks = 0;
    let points = 0;
    const report = () => {
      const seconds = Math.max((Date.now() - started) / 1000, 0.001);
      options.onProgress?.({
        totalChunks,
        doneChunks: alreadyDone + chunks,
        documents,
        rate: chunks / seconds,
      });
    };
    report();
    let cursor = resumeAfter;
    for (;;) {
      const page = await this.documentsAfter(collectionId, cursor, options.pageSize ?? 50);
      if (page.length === 0) break;
      for (const doc of page) {
        const written = await this.reindexDocument(doc);
        documents++;
        chunks += written;
        points += written;
        cursor = doc.id;
        checkpoint.lastDocumentId = doc.id;
        checkpoint.doneChunks = alreadyDone + chunks;
        checkpoint.updatedAt = new Date().toISOString();
        report();
      }
      writeCheckpoint(file, checkpoint);
    }
    checkpoint.finishedAt = new Date().toISOString();
    writeCheckpoint(file, checkpoint);
    const durationMs = Date.now() - started;
    return {
      collectionId,
      resumedAfter: resumeAfter,
      documents,
      chunks,
      points,
      durationMs,
      rate: chunks / Math.max(durationMs / 1000, 0.001),
      checkpoint: file,
    };
  }

  private async reindexDocument(doc: DocumentRow): Promise<number> {
    const chunks = await this.db.read((m) =>
      rowsOf<{ id: string; ordinal: number; text: string }>(
        m,
        `SELECT id, ordinal, text FROM chunks WHERE document_id = $1 AND generation = $2 ORDER BY ordinal`,
        [doc.id, doc.generation],
      ),
    );
    const batchSize = this.config.embedding.batchSize;
    for (let start = 0; start < chunks.length; start += batchSize) {
      const batch = chunks.slice(start, start + batchSize);
      const vectors = await this.embedder.embed(batch.map((c) => c.text));
      const points: ChunkPoint[] = batch.map((chunk, i) => ({
        // the chunk's id is its point's id (ingest derives both with pointIdFor)
        id: chunk.id,
        vector: vectors[i],
        payload: {
          document_id: doc.id,
          collection_id: doc.collection_id,
          owner_id: doc.owner_id,
          generation: doc.generation,
          ordinal: chunk.ordinal,
        },
      }));
      await this.vectors.upsertChunks(points);
    }
    return chunks.length;
  }

  private documentsAfter(
    collectionId: string | null,
    after: string | null,
    limit: number,
  ): Promise<DocumentRow[]> {
    return this.db.read((m) =>
      rowsOf<DocumentRow>(
        m,
        `SELECT id, generation, collection_id, owner_id FROM documents
          WHERE status = 'completed'
            AND ($1::uuid IS NULL OR collection_id = $1::uuid)
            AND ($2::uuid IS NULL OR id > $2::uuid)
          ORDER BY id
          LIMIT $3`,
        [collectionId, after, limit],
      ),
    );
  }

  /** Current chunks of completed documents (after `after` in id order when given). */
  private async countChunks(collectionId: string | null, after: string | null): Promise<number> {
    const [{ count }] = await this.db.read((m) =>
      rowsOf<{ count: string }>(
        m,
        `SELECT count(*) AS count FROM chunks c
           JOIN documents d ON d.id = c.document_id AND d.generation = c.generation
          WHERE d.status = 'completed'
            AND ($1::uuid IS NULL OR d.collection_id = $1::uuid)
            AND ($2::uuid IS NULL OR d.id > $2::uuid)`,
        [collectionId, after],
      ),
    );
    return Number(count);
  }
}

function readCheckpoint(file: string): Checkpoint | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Checkpoint;
  } catch {
    return undefined;
  }
}

function writeCheckpoint(file: string, checkpoint: Checkpoint): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, JSON.stringify(checkpoint, null, 2));
  fs.renameSync(temp, file);
}
