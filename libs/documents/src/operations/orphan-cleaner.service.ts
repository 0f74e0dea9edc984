import { Injectable } from '@nestjs/common';
import { DbService } from '@quarry/db';
import { QdrantGateway, StoredPoint } from '@quarry/vector';
import { isUuid } from '../documents.service';
import { classify } from '../integrity.service';
import { rowsOf } from '../sql';

export interface OrphanCleanReport {
  dryRun: boolean;
  pointsScanned: number;
  orphans: number;
  deleted: number;
  /** up to ten orphan point ids */
  examples: string[];
}

interface PointRow {
  id: string;
  status: string | null;
  doc_generation: number | null;
  has_chunk: boolean;
}

/**
 * `clean-orphans`: only the orphan-points part of the integrity fix. A point is judged
 * with the integrity check's own rule (`classify`), so the two can never disagree on what
 * an orphan is; in-flight points of an ingest are left alone, and so are points whose id
 * is not a UUID (Quarry never writes those; someone put them there by hand).
 */
@Injectable()
export class OrphanCleanerService {
  constructor(
    private readonly db: DbService,
    private readonly vectors: QdrantGateway,
  ) {}

  async clean({ dryRun = false }: { dryRun?: boolean } = {}): Promise<OrphanCleanReport> {
    const report: OrphanCleanReport = {
      dryRun,
      pointsScanned: 0,
      orphans: 0,
      deleted: 0,
      examples: [],
    };
    const doomed: string[] = [];
    for await (const page of this.vectors.scrollAll({ batchSize: 1_000 })) {
      report.pointsScanned += page.length;
      const rows = await this.lookUp(page);
      for (const point of page) {
        const verdict = classify(point, rows.get(point.id));
        if (verdict === 'current' || verdict === 'in_flight') continue;
        report.orphans++;
        if (report.examples.length < 10) report.examples.push(point.id);
        if (isUuid(point.id)) doomed.push(point.id);
      }
    }
    // deleted after the scroll, so deleting cannot shift the pages being read
    if (!dryRun && doomed.length > 0) {
      await this.vectors.deletePoints(doomed);
      report.deleted = doomed.length;
    }
    return report;
  }

  private async lookUp(page: readonly StoredPoint[]): Promise<Map<string, PointRow>> {
    const ids: string[] = [];
    const documentIds: (string | null)[] = [];
    const generations: (number | null)[] = [];
    for (const point of page) {
      if (!isUuid(point.id)) continue;
      ids.push(point.id);
      documentIds.push(isUuid(point.payload.document_id) ? point.payload.document_id : null);
      generations.push(
        Number.isInteger(point.payload.generation) ? point.payload.generation : null,
      );
    }
    if (ids.length === 0) return new Map();
    const rows = await this.db.read((m) =>
      rowsOf<PointRow>(
        m,
        `SELECT p.id::text AS id, d.status, d.generation AS doc_generation,
                EXISTS (SELECT 1 FROM chunks c
                         WHERE c.id = p.id AND c.document_id = p.document_id
                           AND c.generation = p.generation) AS has_chunk
           FROM unnest($1::uuid[], $2::uuid[], $3::int[]) AS p(id, document_id, generation)
           LEFT JOIN documents d ON d.id = p.document_id`,
        [ids, documentIds, generations],
      ),
    );
    return new Map(rows.map((r) => [r.id, r]));
  }
}
