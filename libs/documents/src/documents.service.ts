import { Injectable, Logger } from '@nestjs/common';
import { QuarryConfig } from '@quarry/config';
import { Chunk, DbService, Document, DocumentBlob, DocumentStatus } from '@quarry/db';
import { detectTextType, detectType, UnsupportedTypeError } from '@quarry/pipeline';
import { EnqueueOptions, JobName, JobQueueService, jobIdFor } from '@quarry/queue';
import { createHash } from 'node:crypto';
import { In, MoreThan } from 'typeorm';
import { rowsOf } from './sql';
import { DomainError, badInput, conflict, notFound } from './domain-errors';
import {
  assertStorableJson,
  DEFAULT_JSON_MAX_DEPTH,
  DEFAULT_JSON_MAX_VALUES,
  jsonShapeProblem,
} from './storable-json';
import { DocumentStatusView, DocumentView, toDocumentView, toStatusView } from './document-view';

export interface UploadInput {
  ownerId: string;
  collectionId: string;
  filename: string;
  bytes: Buffer;
  /** the client's Content-Type: a tie-breaker between Markdown and plain text only */
  declaredType?: string;
  metadata?: unknown;
  force?: boolean;
}

export interface TextUploadInput {
  ownerId: string;
  collectionId: string;
  title: string;
  text: string;
  metadata?: unknown;
  force?: boolean;
}

export interface UploadResult {
  duplicate: boolean;
  document: DocumentView;
  jobId: string | null;
}

export interface ListQuery {
  collectionId?: string;
  status?: DocumentStatus;
  createdAfter?: Date;
  createdBefore?: Date;
  includeDeleted?: boolean;
  limit: number;
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface ChunkListQuery {
  limit: number;
  cursor?: string;
  offset?: number;
}

export type ChunkPage = Page<ChunkView> & { total: number };

export interface ChunkView {
  id: string;
  ordinal: number;
  text: string;
  token_count: number;
  page: number | null;
  char_start: number | null;
  char_end: number | null;
}

/** The first generation of a new document; reprocess and delete bump it. */
export const FIRST_GENERATION = 1;

/**
 * Documents in: every intention is recorded in PostgreSQL first, then the queue is
 * told. If the queue is down the upload still succeeds: the document is `pending` and
 * the reconciler enqueues it.
 */
@Injectable()
export class DocumentsService {
  private readonly logger = new Logger('Documents');

  constructor(
    private readonly db: DbService,
    private readonly jobs: JobQueueService,
    private readonly config: QuarryConfig,
  ) {}

  async upload(input: UploadInput): Promise<UploadResult> {
    if (input.bytes.length === 0) throw badInput('the file is empty');
    this.checkSize(input.bytes.length);
    const metadata = parseMetadata(input.metadata);
    const filename = sanitizeFilename(input.filename);
    let mimeType: string;
    try {
      mimeType = detectType(input.bytes, { filename, declaredType: input.declaredType });
    } catch (err) {
      if (err instanceof UnsupportedTypeError)
        throw new DomainError('unsupported-type', err.message);
      throw err;
    }
    return this.store({ ...input, filename, mimeType, metadata });
  }

  async uploadText(input: TextUploadInput): Promise<UploadResult> {
    const title = (input.title ?? '').trim();
    if (title.length === 0 || title.length > 500) throw badInput('title must be 1–500 characters');
    if (typeof input.text !== 'string' || input.text.trim().length === 0)
      throw badInput('text is empty');
    const bytes = Buffer.from(input.text, 'utf8');
    this.checkSize(bytes.length);
    const mimeType = detectTextType(input.text, {});
    const extension = mimeType === 'text/markdown' ? '.md' : '.txt';
    const filename = sanitizeFilename(
      /\.(?:md|txt|markdown)$/i.test(title) ? title : `${title}${extension}`,
    );
    return this.store({
      ownerId: input.ownerId,
      collectionId: input.collectionId,
      filename,
      bytes,
      mimeType,
      metadata: parseMetadata(input.metadata),
      force: input.force,
    });
  }

  private async store(input: {
    ownerId: string;
    collectionId: string;
    filename: string;
    bytes: Buffer;
    mimeType: string;
    metadata: Record<string, unknown>;
    force?: boolean;
  }): Promise<UploadResult> {
    const sha256 = createHash('sha256').update(input.bytes).digest('hex');
    // One statement, one round trip: the ownership check, the duplicate lookup and both
    // INSERTs commit together or not at all. The hot path of every upload.
    const [row] = await rowsOf<{
      owned: boolean;
      duplicate_id: string | null;
      id: string | null;
      created_at: Date | null;
      updated_at: Date | null;
    }>(
      this.db.manager(),
      `WITH c AS (
         SELECT id FROM collections WHERE id = $1 AND owner_id = $2
       ), dup AS (
         SELECT d.id FROM documents d JOIN c ON d.collection_id = c.id
          WHERE NOT $9::boolean AND d.sha256 = $3 AND d.status NOT IN ('deleting', 'deleted')
          ORDER BY d.created_at DESC LIMIT 1
       ), ins AS (
         INSERT INTO documents (collection_id, owner_id, filename, mime_type, size_bytes, sha256, status, generation, metadata)
         SELECT c.id, $2, $4, $5, $6, $3, 'pending', $7, $8::jsonb FROM c
          WHERE NOT EXISTS (SELECT 1 FROM dup)
         RETURNING id, created_at, updated_at
       ), blob AS (
         INSERT INTO document_blobs (document_id, content) SELECT id, $10 FROM ins
       )
       SELECT EXISTS (SELECT 1 FROM c) AS owned, (SELECT id FROM dup) AS duplicate_id,
              ins.id, ins.created_at, ins.updated_at
         FROM (SELECT 1) AS one LEFT JOIN ins ON true`,
      [
        input.collectionId,
        input.ownerId,
        sha256,
        input.filename,
        input.mimeType,
        input.bytes.length,
        FIRST_GENERATION,
        JSON.stringify(input.metadata),
        input.force === true,
        input.bytes,
      ],
    );
    if (!row?.owned) throw notFound('collection', input.collectionId);
    if (row.duplicate_id) {
      return {
        duplicate: true,
        document: await this.view(input.ownerId, row.duplicate_id),
        jobId: null,
      };
    }
    if (!row.id || !row.created_at || !row.updated_at) {
      throw new Error(`the upload into collection ${input.collectionId} inserted nothing`);
    }
    const document = this.db.repo(Document).create({
      id: row.id,
      collectionId: input.collectionId,
      ownerId: input.ownerId,
      filename: input.filename,
      mimeType: input.mimeType,
      sizeBytes: input.bytes.length,
      sha256,
      status: DocumentStatus.Pending,
      generation: FIRST_GENERATION,
      progress: 0,
      stage: null,
      error: null,
      attempts: 0,
      chunkCount: 0,
      chunksTotal: 0,
      chunksDone: 0,
      embeddingModel: null,
      metadata: input.metadata,
      heartbeatAt: null,
      processingStartedAt: null,
      processingCompletedAt: null,
      deletedAt: null,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    });
    const jobId = await this.enqueueIngest(document, { freshId: true });
    return { duplicate: false, document: toDocumentView(document), jobId };
  }

  private enqueueIngest(
    document: { id: string; generation: number },
    options: EnqueueOptions = {},
  ): Promise<string> {
    return this.enqueueAfterCommit(JobName.IngestDocument, document, options);
  }

  private enqueueCleanup(document: { id: string; generation: number }): Promise<string> {
    return this.enqueueAfterCommit(JobName.CleanupDocument, document);
  }

  /**
   * Called after the intention is committed. A queue outage is not the client's problem:
   * the document waits in PostgreSQL and the reconciler enqueues it.
   */
  private async enqueueAfterCommit(
    name: JobName.IngestDocument | JobName.CleanupDocument,
    document: { id: string; generation: number },
    options: EnqueueOptions = {},
  ): Promise<string> {
    const item = { name, data: { documentId: document.id, generation: document.generation } };
    try {
      return (await this.jobs.enqueue(item, options)).jobId;
    } catch (err) {
      this.logger.warn(
        `${name} of ${document.id} not enqueued (${String(err)}); the reconciler will`,
      );
      return jobIdFor(item) ?? '';
    }
  }

  async get(ownerId: string, id: string, { includeDeleted = true } = {}): Promise<Document> {
    if (!isUuid(id)) throw notFound('document', id);
    const document = await this.db.read((m) =>
      m.getRepository(Document).findOne({ where: { id, ownerId } }),
    );
    if (!document || (!includeDeleted && document.status === 'deleted'))
      throw notFound('document', id);
    return document;
  }

  /** Several documents by id in one read, whoever owns them (callers checked ownership). */
  async getMany(ids: readonly string[]): Promise<Document[]> {
    if (ids.length === 0) return [];
    return this.db.read((m) => m.getRepository(Document).findBy({ id: In([...ids]) }));
  }

  async view(ownerId: string, id: string): Promise<DocumentView> {
    return toDocumentView(await this.get(ownerId, id));
  }

  async status(ownerId: string, id: string): Promise<DocumentStatusView> {
    return toStatusView(await this.get(ownerId, id));
  }

  async list(ownerId: string, query: ListQuery): Promise<Page<DocumentView>> {
    const params: unknown[] = [ownerId];
    const where = ['owner_id = $1'];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (query.collectionId) add('collection_id = ?', query.collectionId);
    if (query.status) add('status = ?', query.status);
    else if (!query.includeDeleted) where.push(`status NOT IN ('deleting', 'deleted')`);
    if (query.createdAfter) add('created_at > ?', query.createdAfter);
    if (query.createdBefore) add('created_at < ?', query.createdBefore);
    if (query.cursor) {
      const { createdAt, id } = decodeCursor(query.cursor);
      params.push(createdAt, id);
      where.push(
        `(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`,
      );
    }
    params.push(query.limit + 1);
    const rows: { id: string }[] = await this.db.read((m) =>
      m.query(
        `SELECT id FROM documents WHERE ${where.join(' AND ')}
         ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
        params,
      ),
    );
    const ids = rows.slice(0, query.limit).map((r) => r.id);
    const documents = ids.length
      ? await this.db.read((m) => m.getRepository(Document).findBy({ id: In(ids) }))
      : [];
    const byId = new Map(documents.map((d) => [d.id, d]));
    const items = ids
      .map((id) => byId.get(id))
      .filter((d): d is Document => !!d)
      .map(toDocumentView);
    const last = items[items.length - 1];
    return {
      items,
      next_cursor:
        rows.length > query.limit && last ? encodeCursor(last.created_at, last.id) : null,
    };
  }

  /**
   * The current generation's chunks, in order. `cursor` (the `next_cursor` of the page
   * before) continues after the last ordinal seen, through the unique index, so a page
   * costs the same at any depth; `offset` remains for clients that jump to a position.
   */
  async chunks(ownerId: string, id: string, query: ChunkListQuery): Promise<ChunkPage> {
    if (query.cursor !== undefined && query.offset !== undefined) {
      throw badInput('Pass either cursor or offset, not both.');
    }
    const document = await this.get(ownerId, id);
    const after = query.cursor === undefined ? undefined : decodeChunkCursor(query.cursor);
    if (after && after.generation !== document.generation) {
      throw conflict(
        'The document was reprocessed after this cursor was issued: list its chunks from the start.',
      );
    }
    const scope = { documentId: document.id, generation: document.generation };
    const [rows, total] = await this.db.read(async (m) =>
      Promise.all([
        m.getRepository(Chunk).find({
          where: after ? { ...scope, ordinal: MoreThan(after.ordinal) } : scope,
          order: { ordinal: 'ASC' },
          take: query.limit + 1,
          skip: query.offset,
        }),
        // A completed document records its chunk count; otherwise count what is staged.
        document.status === DocumentStatus.Completed
          ? document.chunkCount
          : m.getRepository(Chunk).count({ where: scope }),
      ]),
    );
    const items = rows.slice(0, query.limit).map((c) => ({
      id: c.id,
      ordinal: c.ordinal,
      text: c.text,
      token_count: c.tokenCount,
      page: c.page,
      char_start: c.charStart,
      char_end: c.charEnd,
    }));
    const last = items[items.length - 1];
    return {
      items,
      total,
      next_cursor:
        rows.length > query.limit && last
          ? encodeChunkCursor(document.generation, last.ordinal)
          : null,
    };
  }

  /** The original bytes, as uploaded. Gone once the document is deleted. */
  async content(ownerId: string, id: string): Promise<{ document: Document; bytes: Buffer }> {
    const document = await this.get(ownerId, id);
    const blob = await this.db.read((m) =>
      m.getRepository(DocumentBlob).findOne({ where: { documentId: id } }),
    );
    if (!blob || document.status === 'deleting' || document.status === 'deleted') {
      throw new DomainError('not-found', `the content of document ${id} is no longer available`);
    }
    return { document, bytes: blob.content };
  }

  /** Bumps the generation and starts over; the old chunks stay searchable until the swap. */
  async reprocess(ownerId: string, id: string): Promise<{ document: DocumentView; jobId: string }> {
    const current = await this.get(ownerId, id);
    const rows = await rowsOf<{ id: string; generation: number }>(
      this.db.manager(),
      `UPDATE documents
          SET generation = generation + 1, status = 'pending', stage = NULL, progress = 0,
              error = NULL, attempts = 0, chunks_done = 0, chunks_total = 0, heartbeat_at = NULL,
              processing_started_at = NULL, processing_completed_at = NULL, updated_at = now()
        WHERE id = $1 AND owner_id = $2 AND status NOT IN ('deleting', 'deleted')
        RETURNING id, generation`,
      [id, ownerId],
    );
    if (rows.length === 0) {
      throw conflict(
        `document ${id} is ${current.status}; a document being deleted cannot be reprocessed`,
      );
    }
    const jobId = await this.enqueueIngest(rows[0]);
    return { document: toDocumentView(await this.get(ownerId, id)), jobId };
  }

  /**
   * Accepted in every state, including mid-ingest: one statement marks `deleting` and
   * bumps the generation (which fences out the ingest job), then cleanup is enqueued.
   * From here on search and listings leave the document out.
   */
  async delete(
    ownerId: string,
    id: string,
  ): Promise<{ document_id: string; status: DocumentStatus; job_id: string | null }> {
    const current = await this.get(ownerId, id);
    if (current.status === 'deleted') return { document_id: id, status: 'deleted', job_id: null };
    const rows = await rowsOf<{ id: string; generation: number }>(
      this.db.manager(),
      `UPDATE documents
          SET status = 'deleting', generation = generation + 1, stage = 'deleting', error = NULL,
              heartbeat_at = NULL, updated_at = now()
        WHERE id = $1 AND owner_id = $2 AND status <> 'deleted'
      RETURNING id, generation`,
      [id, ownerId],
    );
    if (rows.length === 0) return { document_id: id, status: 'deleted', job_id: null };
    const jobId = await this.enqueueCleanup(rows[0]);
    return { document_id: id, status: 'deleting', job_id: jobId };
  }

  /** Deletes many documents through the same flow: by ids (at most 1000) or a whole collection. */
  async deleteMany(
    ownerId: string,
    selector: { ids?: string[]; collectionId?: string },
  ): Promise<{ count: number }> {
    const params: unknown[] = [ownerId];
    let scope: string;
    if (selector.ids) {
      if (selector.ids.length === 0 || selector.ids.length > 1000)
        throw badInput('ids must hold 1 to 1000 document ids');
      if (!selector.ids.every(isUuid)) throw badInput('every id must be a UUID');
      params.push(selector.ids);
      scope = 'id = ANY($2::uuid[])';
    } else if (selector.collectionId) {
      params.push(selector.collectionId);
      scope = 'collection_id = $2';
    } else {
      throw badInput('give either ids or collection_id');
    }
    const rows = await rowsOf<{ id: string; generation: number }>(
      this.db.manager(),
      `UPDATE documents
          SET status = 'deleting', generation = generation + 1, stage = 'deleting', error = NULL,
              heartbeat_at = NULL, updated_at = now()
        WHERE owner_id = $1 AND ${scope} AND status <> 'deleted'
      RETURNING id, generation`,
      params,
    );
    for (const row of rows) await this.enqueueCleanup(row);
    return { count: rows.length };
  }

  private checkSize(size: number): void {
    if (size > this.config.upload.maxBytes) {
      throw new DomainError(
        'too-large',
        `the upload is ${size} bytes; the limit is ${this.config.upload.maxBytes} bytes (UPLOAD_MAX_BYTES)`,
      );
    }
  }
}

export function parseMetadata(value: unknown): Record<string, unknown> {
  if (value === undefined || value === null || value === '') return {};
  let parsed = value;
  if (typeof value === 'string') {
    const problem = jsonShapeProblem(value, {
      maxDepth: DEFAULT_JSON_MAX_DEPTH,
      maxValues: DEFAULT_JSON_MAX_VALUES,
    });
    if (problem) throw badInput(`metadata ${problem}`);
    try {
      parsed = JSON.parse(value);
    } catch {
      throw badInput('metadata must be a JSON object');
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw badInput('metadata must be a JSON object');
  }
  assertStorableJson(parsed, 'metadata');
  if (JSON.stringify(parsed).length > 64 * 1024) throw badInput('metadata must be under 64 KiB');
  return parsed as Record<string, unknown>;
}

/** The name to show and store: no path, no control characters, bounded. Never a path on disk. */
export function sanitizeFilename(name: string | undefined): string {
  const base = (name ?? '').split(/[\\/]/).pop() ?? '';
  const cleaned = base
    .normalize('NFC')
    .replace(/[\p{Cc}\p{Cf}]/gu, '')
    .replace(/^\.+/, '')
    .trim()
    .slice(0, 255);
  return cleaned.length > 0 ? cleaned : 'untitled';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string): boolean => UUID.test(value);

function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(`${createdAt}|${id}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  const [createdAt, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (!createdAt || !id || Number.isNaN(Date.parse(createdAt)) || !isUuid(id)) {
    throw badInput('cursor is not valid');
  }
  return { createdAt, id };
}

function encodeChunkCursor(generation: number, ordinal: number): string {
  return Buffer.from(`c|${generation}|${ordinal}`, 'utf8').toString('base64url');
}

function decodeChunkCursor(cursor: string): { generation: number; ordinal: number } {
  const [tag, generation, ordinal] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const parsed = { generation: Number(generation), ordinal: Number(ordinal) };
  if (
    tag !== 'c' ||
    !/^\d{1,9}$/.test(generation ?? '') ||
    !/^\d{1,9}$/.test(ordinal ?? '') ||
    parsed.generation < 1
  ) {
    throw badInput('cursor is not valid: pass the next_cursor of the previous page unchanged');
  }
  return parsed;
}
