import type { DocumentStatus } from '@quarry/db';
import type { Embedder } from '@quarry/pipeline';
import { pointIdFor, QdrantGateway } from '@quarry/vector';
import { createHash, randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';

export interface SeedDocument {
  ownerId: string;
  collectionId: string;
  chunks: string[];
  filename?: string;
  mimeType?: string;
  status?: DocumentStatus;
  /** the document's current generation */
  generation?: number;
  /** generation the chunk rows and points are written under (default: the document's) */
  chunkGeneration?: number;
  metadata?: Record<string, unknown>;
  createdAt?: Date;
  /** write the points but not the chunk rows (orphan points) */
  rows?: boolean;
  /** write the chunk rows but not the points */
  points?: boolean;
}

export interface SeededDocument {
  id: string;
  chunkIds: string[];
}

/** A collection of an owner, written directly. */
export async function seedCollection(
  ds: DataSource,
  ownerId: string,
  name = 'search',
): Promise<string> {
  const rows = (await ds.query(
    `INSERT INTO collections (owner_id, name) VALUES ($1, $2) RETURNING id::text AS id`,
    [ownerId, `${name} ${randomBytes(3).toString('hex')}`],
  )) as { id: string }[];
  return rows[0].id;
}

/**
 * A document with its chunk rows and points written directly, in any state, so a test
 * controls exactly what PostgreSQL and Qdrant each hold.
 */
export async function seedDocument(
  ds: DataSource,
  vectors: QdrantGateway,
  embedder: Embedder,
  doc: SeedDocument,
): Promise<SeededDocument> {
  const status = doc.status ?? 'completed';
  const generation = doc.generation ?? 0;
  const chunkGeneration = doc.chunkGeneration ?? generation;
  const content = doc.chunks.join('\n\n') + randomBytes(4).toString('hex');
  const done = status === 'completed' ? 'now()' : 'NULL';
  const [{ id }] = (await ds.query(
    `INSERT INTO documents (collection_id, owner_id, filename, mime_type, size_bytes, sha256,
       status, generation, metadata, progress, processing_started_at, processing_completed_at,
       deleted_at, heartbeat_at, error, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, now(), ${done},
       ${status === 'deleted' ? 'now()' : 'NULL'}, now(),
       ${status === 'failed' ? `'failed in a test'` : 'NULL'}, coalesce($11::timestamptz, now()))
     RETURNING id::text AS id`,
    [
      doc.collectionId,
      doc.ownerId,
      doc.filename ?? 'doc.txt',
      doc.mimeType ?? 'text/plain',
      Buffer.byteLength(content),
      createHash('sha256').update(content).digest('hex'),
      status,
      generation,
      JSON.stringify(doc.metadata ?? {}),
      status === 'completed' ? 100 : 0,
      doc.createdAt?.toISOString() ?? null,
    ],
  )) as { id: string }[];
  const chunkIds = doc.chunks.map((_, ordinal) => pointIdFor(id, chunkGeneration, ordinal));
  if (doc.rows !== false && doc.chunks.length > 0) {
    const values: unknown[] = [];
    const tuples = doc.chunks.map((text, ordinal) => {
      values.push(chunkIds[ordinal], id, chunkGeneration, ordinal, text, ordinal + 1);
      const b = ordinal * 6;
      return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}, 0, length($${b + 5}))`;
    });
    await ds.query(
      `INSERT INTO chunks (id, document_id, generation, ordinal, text, page, char_start, char_end)
       VALUES ${tuples.join(', ')}`,
      values,
    );
    if (status === 'completed') {
      await ds.query(`UPDATE documents SET chunk_count = $2 WHERE id = $1`, [
        id,
        doc.chunks.length,
      ]);
    }
  }
  if (doc.points !== false && doc.chunks.length > 0) {
    const embedded = await embedder.embed(doc.chunks);
    await vectors.upsertChunks(
      embedded.map((vector, ordinal) => ({
        id: chunkIds[ordinal],
        vector: Array.from(vector),
        payload: {
          document_id: id,
          collection_id: doc.collectionId,
          owner_id: doc.ownerId,
          generation: chunkGeneration,
          ordinal,
        },
      })),
    );
  }
  return { id, chunkIds };
}
