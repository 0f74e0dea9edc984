import { Injectable, Logger } from '@nestjs/common';
import { DbService, Document } from '@quarry/db';
import { QdrantGateway } from '@quarry/vector';
import { DocumentEventsService } from './document-events.service';
import { toEvent } from './document-view';
import { affectedBy } from './sql';
import { isUuid } from './documents.service';

export type CleanupOutcome = { status: 'deleted' } | { status: 'skipped'; reason: string };

/**
 * Drives a `deleting` document to its `deleted` tombstone: points first (by document
 * filter, every generation, wait=true), then chunk rows and blob in one transaction.
 * Idempotent: every step may run again after a crash at any point. No connection is
 * held across the Qdrant call.
 */
@Injectable()
export class CleanupService {
  private readonly logger = new Logger('Cleanup');

  constructor(
    private readonly db: DbService,
    private readonly vectors: QdrantGateway,
    private readonly events: DocumentEventsService,
  ) {}

  async cleanup(documentId: string): Promise<CleanupOutcome> {
    if (!isUuid(documentId))
      throw new TypeError(`cleanup needs a document id, got ${String(documentId)}`);
    const doc = await this.db.read((m) =>
      m.getRepository(Document).findOne({ where: { id: documentId } }),
    );
    if (!doc) return { status: 'skipped', reason: 'no such document' };
    if (doc.status !== 'deleting')
      return { status: 'skipped', reason: `document is ${doc.status}` };

    await this.vectors.deleteByDocument(documentId);

    const done = await this.db.transaction(async (m) => {
      const rows: unknown[] = await m.query(
        `SELECT id FROM documents WHERE id = $1 AND status = 'deleting' FOR UPDATE`,
        [documentId],
      );
      if (rows.length === 0) return false;
      await m.query(`DELETE FROM chunks WHERE document_id = $1`, [documentId]);
      await m.query(`DELETE FROM document_blobs WHERE document_id = $1`, [documentId]);
      await m.query(
        `UPDATE documents
            SET status = 'deleted', stage = NULL, progress = 0, error = NULL, chunk_count = 0,
                chunks_done = 0, chunks_total = 0, heartbeat_at = NULL, deleted_at = now(), updated_at = now()
          WHERE id = $1`,
        [documentId],
      );
      return true;
    });
    if (!done) return { status: 'skipped', reason: 'document left the deleting state meanwhile' };
    const tombstone = await this.db
      .manager()
      .getRepository(Document)
      .findOne({ where: { id: documentId } });
    if (tombstone) await this.events.publish(toEvent(tombstone));
    this.logger.debug(`document ${documentId} deleted`);
    return { status: 'deleted' };
  }

  /** Records the last error on a document whose cleanup gave up; the reconciler re-drives it. */
  async recordFailure(documentId: string, message: string): Promise<void> {
    await this.db
      .manager()
      .query(
        `UPDATE documents SET error = $2, updated_at = now() WHERE id = $1 AND status = 'deleting'`,
        [
          documentId,
          `cleanup failed, will be retried by the reconciler: ${message}`.slice(0, 2000),
        ],
      );
  }

  /** Removes tombstones older than the retention period. Returns how many. */
  async purgeTombstones(retentionDays: number): Promise<number> {
    return affectedBy(
      this.db.manager(),
      `DELETE FROM documents WHERE status = 'deleted' AND deleted_at < now() - make_interval(days => $1)`,
      [retentionDays],
    );
  }
}
