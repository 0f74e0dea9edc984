import { Injectable } from '@nestjs/common';
import { QdrantGateway } from '@quarry/vector';
import { isUuid } from '../documents.service';
import { classify, IntegrityService } from '../integrity.service';

export interface OrphanCleanReport {
  dryRun: boolean;
  pointsScanned: number;
  orphans: number;
  deleted: number;
  /** up to ten orphan point ids */
  examples: string[];
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
    private readonly integrity: IntegrityService,
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
      const rows = await this.integrity.lookUpPoints(page);
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
}
