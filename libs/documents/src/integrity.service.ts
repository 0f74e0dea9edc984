import { Injectable, Logger, Optional } from '@nestjs/common';
import { QuarryConfig } from '@quarry/config';
import { DbService, hasPendingMigrations } from '@quarry/db';
import { MetricNames, MetricsService } from '@quarry/observability';
import { JobName, JobQueueService, QueueName, jobIdFor } from '@quarry/queue';
import { QdrantGateway, StoredPoint } from '@quarry/vector';
import type { Counter, Gauge } from 'prom-client';
import { isUuid } from './documents.service';
import { rowsOf } from './sql';

export type Overall = 'healthy' | 'warning' | 'critical';
export type Severity = 'warning' | 'critical';

/** Every kind a report can hold, in the order it is printed. */
export const FINDING_KINDS = {
  postgres_unreachable: 'critical',
  migrations_pending: 'critical',
  tables_missing: 'critical',
  redis_unreachable: 'critical',
  qdrant_unreachable: 'critical',
  collection_missing: 'critical',
  collection_mismatch: 'critical',
  orphan_points: 'warning',
  missing_points: 'warning',
  stale_processing: 'warning',
  pending_without_job: 'warning',
  stuck_deleting: 'warning',
  failed_cleanups: 'warning',
  failed_jobs: 'warning',
} as const satisfies Record<string, Severity>;

export type FindingKind = keyof typeof FINDING_KINDS;

export interface Finding {
  kind: FindingKind;
  severity: Severity;
  count: number;
  /** up to ten ids (documents, or points for orphan points) */
  examples: string[];
  message: string;
  /** false when the check could not run (its dependency is down); count is then 0 */
  checked: boolean;
}

export interface Repair {
  kind: FindingKind;
  count: number;
}

export interface IntegrityReport {
  overall: Overall;
  /** whether repairs were made (findings are what was found before them) */
  fix: boolean;
  checkedAt: string;
  findings: Finding[];
  repairs: Repair[];
  /** milliseconds per phase */
  timings: Record<string, number>;
  totals: { pointsScanned: number; chunksChecked: number };
  /** a check that could not run (its dependency is down), with the reason */
  skipped: string[];
  durationMs: number;
}

export const REQUIRED_TABLES = [
  'collections',
  'documents',
  'document_blobs',
  'chunks',
  'api_keys',
] as const;

const EXAMPLES = 10;
const SCROLL_PAGE = 1_000;
const CHUNK_PAGE = 1_000;
const PROBE_TIMEOUT_MS = 3_000;
/** a pending or deleting document younger than this is left to the job that was just enqueued */
const GRACE_SECONDS = 10;
/** bounds the per-run work of the job checks, so one run stays short on a huge backlog */
const JOB_CHECK_LIMIT = 5_000;
const REPROCESS_LIMIT = 10_000;

export interface PointRow {
  id: string;
  status: string | null;
  doc_generation: number | null;
  has_chunk: boolean;
}

/** Accumulates one finding: a count and its first examples, nothing more (constant memory). */
class Tally {
  count = 0;
  readonly examples: string[] = [];
  add(id: string): void {
    this.count++;
    if (this.examples.length < EXAMPLES && !this.examples.includes(id)) this.examples.push(id);
  }
}

/**
 * The one integrity check behind the reconciler, `GET /v1/admin/integrity` and
 * `quarry check-data`. PostgreSQL is the truth: every Qdrant point must belong to a
 * current chunk, every current chunk of a completed document must have its point, and
 * every unfinished document must have a job that will move it. In fix mode each gap is
 * closed with an idempotent step, so two overlapping runs cannot do harm (the
 * reconciler still runs one at a time across the fleet).
 */
@Injectable()
export class IntegrityService {
  private readonly logger = new Logger('Integrity');
  private readonly findingsGauge?: Gauge<'kind'>;
  private readonly repairsCounter?: Counter<'kind'>;

  constructor(
    private readonly db: DbService,
    private readonly jobs: JobQueueService,
    private readonly vectors: QdrantGateway,
    private readonly config: QuarryConfig,
    @Optional() metrics?: MetricsService,
  ) {
    this.findingsGauge = metrics?.gauge(
      MetricNames.reconcilerFindings,
      'Findings of the last integrity check, by kind',
      ['kind'],
    );
    this.repairsCounter = metrics?.counter(
      MetricNames.reconcilerRepairsTotal,
      'Repairs made by the integrity fix, by kind',
      ['kind'],
    );
  }

  /**
   * `postgresError`: the caller could not even open its pool (the CLI opens its own), so
   * PostgreSQL is reported unreachable with that reason instead of a vaguer one.
   */
  async check({
    fix = false,
    postgresError,
  }: { fix?: boolean; postgresError?: string } = {}): Promise<IntegrityReport> {
    const started = Date.now();
    const run = new Run(fix);

    const pg = await run.time('postgres', () => this.checkPostgres(run, postgresError));
    const redis = await run.time('redis', () => this.checkRedis(run));
    const qdrant = await run.time('qdrant', () => this.checkQdrant(run));

    if (pg) {
      await run.time('stale_processing', () => this.staleProcessing(run));
      await run.time('failed_cleanups', () => this.failedCleanups(run));
    } else run.skip(['stale_processing', 'failed_cleanups'], 'PostgreSQL is unavailable');
    if (pg && qdrant) {
      await run.time('orphan_points', () => this.orphanPoints(run));
      await run.time('missing_points', () => this.missingPoints(run));
    } else run.skip(['orphan_points', 'missing_points'], 'PostgreSQL or Qdrant is unavailable');
    if (pg && redis) {
      await run.time('failed_jobs', () => this.failedJobs(run));
      await run.time('pending_without_job', () => this.pendingWithoutJob(run));
      await run.time('stuck_deleting', () => this.stuckDeleting(run));
    } else
      run.skip(
        ['failed_jobs', 'pending_without_job', 'stuck_deleting'],
        'PostgreSQL or Redis is unavailable',
      );

    const report = run.report(Date.now() - started);
    for (const finding of report.findings)
      this.findingsGauge?.set({ kind: finding.kind }, finding.count);
    for (const repair of report.repairs)
      this.repairsCounter?.inc({ kind: repair.kind }, repair.count);
    if (report.repairs.length > 0)
      this.logger.log(`repaired: ${report.repairs.map((r) => `${r.kind}=${r.count}`).join(', ')}`);
    if (report.overall === 'critical')
      this.logger.warn(
        `critical: ${report.findings
          .filter((f) => f.count > 0 && f.severity === 'critical')
          .map((f) => f.message)
          .join('; ')}`,
      );
    return report;
  }

  // ------------------------------------------------------------ dependencies

  private async checkPostgres(run: Run, knownError?: string): Promise<boolean> {
    if (knownError !== undefined) {
      run.critical('postgres_unreachable', `PostgreSQL is unreachable: ${knownError}`);
      return false;
    }
    try {
      await withTimeout(this.db.manager().query('SELECT 1'), PROBE_TIMEOUT_MS, 'SELECT 1');
    } catch (err) {
      run.critical('postgres_unreachable', `PostgreSQL is unreachable: ${describe(err)}`);
      return false;
    }
    const present = await rowsOf<{ name: string }>(
      this.db.manager(),
      `SELECT t.name FROM unnest($1::text[]) AS t(name) WHERE to_regclass('public.' || t.name) IS NOT NULL`,
      [REQUIRED_TABLES],
    );
    const missing = REQUIRED_TABLES.filter((t) => !present.some((p) => p.name === t));
    if (missing.length > 0)
      run.critical(
        'tables_missing',
        `required tables are missing: ${missing.join(', ')} (run \`quarry migrate\`)`,
        missing,
      );
    let pending: boolean;
    try {
      pending = await hasPendingMigrations(this.db.dataSource);
    } catch (err) {
      run.critical('migrations_pending', `migrations could not be read: ${describe(err)}`);
      return false;
    }
    if (pending)
      run.critical('migrations_pending', 'database migrations are pending (run `quarry migrate`)');
    return missing.length === 0 && !pending;
  }

  private async checkRedis(run: Run): Promise<boolean> {
    try {
      // a real round trip on the connection the job checks below use
      await withTimeout(this.jobs.counts(QueueName.Maintenance), PROBE_TIMEOUT_MS, 'Redis');
      return true;
    } catch (err) {
      run.critical('redis_unreachable', `Redis is unreachable: ${describe(err)}`);
      return false;
    }
  }

  private async checkQdrant(run: Run): Promise<boolean> {
    try {
      await this.vectors.ping();
    } catch (err) {
      run.critical('qdrant_unreachable', `Qdrant is unreachable: ${describe(err)}`);
      return false;
    }
    try {
      const info = await withTimeout(
        this.vectors.collectionInfo(),
        this.config.qdrant.timeoutMs + PROBE_TIMEOUT_MS,
        'get collection',
      );
      if (!info.exists) {
        run.critical('collection_missing', `Qdrant collection "${info.name}" does not exist`);
        return false;
      }
      const want = this.config.qdrant.dimension;
      if (info.dimension !== want || info.distance !== 'Cosine') {
        run.critical(
          'collection_mismatch',
          `Qdrant collection "${info.name}" has ${info.dimension ?? '?'} dimensions and ${info.distance ?? '?'} distance; Quarry needs ${want} (EMBEDDING_DIM) and Cosine`,
        );
        return false;
      }
      return true;
    } catch (err) {
      run.critical('qdrant_unreachable', `Qdrant is unreachable: ${describe(err)}`);
      return false;
    }
  }

  // ------------------------------------------------------------ points

  /**
   * Streams every point and looks its page up in one statement. A point is current when
   * its document is completed at the point's generation with the chunk row in place; a
   * point of a pending or processing document at its current generation is in flight
   * (an ingest is writing it), and one of an older generation whose chunk row still
   * exists serves until the reprocess swap. Everything else can never become current
   * again (generations only grow; deleting is final), so deleting it is always safe.
   */
  private async orphanPoints(run: Run): Promise<void> {
    const orphans = new Tally();
    const lostRows = new Map<string, number>();
    let deleted = 0;
    for await (const page of this.vectors.scrollAll({ batchSize: SCROLL_PAGE })) {
      run.totals.pointsScanned += page.length;
      const rows = await this.lookUpPoints(page);
      const doomed: string[] = [];
      for (const point of page) {
        const row = rows.get(point.id);
        const verdict = classify(point, row);
        if (verdict === 'current' || verdict === 'in_flight') continue;
        orphans.add(point.id);
        // Quarry writes UUID ids only; anything else was put there by hand and is left to it.
        if (isUuid(point.id)) doomed.push(point.id);
        if (
          verdict === 'lost_chunk_row' &&
          row?.doc_generation != null &&
          lostRows.size < REPROCESS_LIMIT
        )
          lostRows.set(point.payload.document_id, row.doc_generation);
      }
      if (run.fix && doomed.length > 0) {
        await this.vectors.deletePoints(doomed);
        deleted += doomed.length;
      }
    }
    run.warning(
      'orphan_points',
      orphans,
      'points with no current chunk (deleted or unknown document, old generation, lost chunk row)',
      deleted,
    );
    // A completed document that lost chunk rows is incomplete: index it again from its blob.
    if (run.fix) {
      for (const [documentId, generation] of lostRows)
        await this.reprocess(documentId, generation, 'chunk rows were missing');
    }
  }

  /** One statement per page: each point's document status and whether its chunk row exists. */
  async lookUpPoints(page: readonly StoredPoint[]): Promise<Map<string, PointRow>> {
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
    const rows = await rowsOf<PointRow>(
      this.db.manager(),
      `SELECT p.id::text AS id, d.status, d.generation AS doc_generation,
              EXISTS (SELECT 1 FROM chunks c
                       WHERE c.id = p.id AND c.document_id = p.document_id
                         AND c.generation = p.generation) AS has_chunk
         FROM unnest($1::uuid[], $2::uuid[], $3::int[]) AS p(id, document_id, generation)
         LEFT JOIN documents d ON d.id = p.document_id`,
      [ids, documentIds, generations],
    );
    return new Map(rows.map((r) => [r.id, r]));
  }

  /**
   * Pages through the current chunks of completed documents (keyset on the chunk id) and
   * asks Qdrant for their points. What is not found is checked again in PostgreSQL, so a
   * document reprocessed or deleted between the two reads is not reported.
   */
  private async missingPoints(run: Run): Promise<void> {
    const missing = new Tally();
    const documents = new Map<string, number>();
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const page = await rowsOf<{ id: string }>(
        this.db.manager(),
        `SELECT c.id::text AS id FROM chunks c
           JOIN documents d ON d.id = c.document_id AND d.generation = c.generation
          WHERE d.status = 'completed' AND c.id > $1::uuid
          ORDER BY c.id LIMIT $2`,
        [after, CHUNK_PAGE],
      );
      if (page.length === 0) break;
      after = page[page.length - 1].id;
      run.totals.chunksChecked += page.length;
      const ids = page.map((r) => r.id);
      const found = new Set((await this.vectors.retrieve(ids)).map((p) => p.id));
      const absent = ids.filter((id) => !found.has(id));
      if (absent.length > 0) {
        const confirmed = await rowsOf<{ id: string; document_id: string; generation: number }>(
          this.db.manager(),
          `SELECT c.id::text AS id, c.document_id::text AS document_id, c.generation FROM chunks c
             JOIN documents d ON d.id = c.document_id AND d.generation = c.generation
            WHERE d.status = 'completed' AND c.id = ANY($1::uuid[])`,
          [absent],
        );
        for (const row of confirmed) {
          missing.add(row.document_id);
          if (documents.size < REPROCESS_LIMIT) documents.set(row.document_id, row.generation);
        }
      }
      if (page.length < CHUNK_PAGE) break;
    }
    let reprocessed = 0;
    if (run.fix) {
      for (const [documentId, generation] of documents)
        if (await this.reprocess(documentId, generation, 'points were missing')) reprocessed++;
    }
    run.warning(
      'missing_points',
      missing,
      'chunks of completed documents with no point in Qdrant (examples are document ids)',
      reprocessed,
    );
  }

  /** Indexes a completed document again at a new generation; the old one is fenced out. */
  private async reprocess(documentId: string, generation: number, why: string): Promise<boolean> {
    const rows = await rowsOf<{ id: string; generation: number }>(
      this.db.manager(),
      `UPDATE documents
          SET generation = generation + 1, status = 'pending', stage = NULL, progress = 0,
              error = $3, attempts = 0, chunks_done = 0, chunks_total = 0, heartbeat_at = NULL,
              processing_started_at = NULL, processing_completed_at = NULL, updated_at = now()
        WHERE id = $1 AND generation = $2 AND status = 'completed'
      RETURNING id, generation`,
      [documentId, generation, `re-indexing: ${why}`],
    );
    if (rows.length === 0) return false;
    await this.enqueue(JobName.IngestDocument, rows[0]);
    return true;
  }

  // ------------------------------------------------------------ documents and jobs

  /**
   * processing with a stale heartbeat: its worker died. Back to pending at a new
   * generation, so a worker that was only slow is fenced out, and enqueued again.
   */
  private async staleProcessing(run: Run): Promise<void> {
    const staleMs = this.config.maintenance.staleHeartbeatMs;
    const stale = await rowsOf<{ id: string; generation: number }>(
      this.db.manager(),
      `SELECT id::text AS id, generation FROM documents
        WHERE status = 'processing'
          AND coalesce(heartbeat_at, updated_at) < now() - make_interval(secs => $1::double precision / 1000)
        ORDER BY updated_at LIMIT $2`,
      [staleMs, JOB_CHECK_LIMIT],
    );
    const tally = new Tally();
    for (const doc of stale) tally.add(doc.id);
    let reset = 0;
    if (run.fix) {
      const rows = await this.resetStale(staleMs);
      for (const row of rows)
        await this.enqueue(JobName.IngestDocument, row).catch(() => undefined);
      reset = rows.length;
    }
    run.warning(
      'stale_processing',
      tally,
      'documents processing with no heartbeat for longer than STALE_HEARTBEAT_MS',
      reset,
    );
  }

  /** processing → pending (new generation) where the heartbeat is older than `olderThanMs`. */
  async resetStale(olderThanMs: number): Promise<{ id: string; generation: number }[]> {
    return rowsOf<{ id: string; generation: number }>(
      this.db.manager(),
      `UPDATE documents
          SET status = 'pending', generation = generation + 1, stage = NULL, heartbeat_at = NULL,
              chunks_done = 0, updated_at = now(),
              error = 'processing stopped (no heartbeat); returned to the queue'
        WHERE status = 'processing'
          AND coalesce(heartbeat_at, updated_at) < now() - make_interval(secs => $1::double precision / 1000)
      RETURNING id::text AS id, generation`,
      [olderThanMs],
    );
  }

  private async failedCleanups(run: Run): Promise<void> {
    const rows = await rowsOf<{ id: string }>(
      this.db.manager(),
      `SELECT id::text AS id FROM documents WHERE status = 'deleting' AND error IS NOT NULL
        ORDER BY updated_at LIMIT $1`,
      [JOB_CHECK_LIMIT],
    );
    const tally = new Tally();
    for (const row of rows) tally.add(row.id);
    // Re-driven with the stuck deletes below (their job has failed, so it is not live).
    run.warning('failed_cleanups', tally, 'deleting documents whose cleanup gave up with an error');
  }

  /** Failed jobs whose document still waits for them (a failure the user already sees is not counted). */
  private async failedJobs(run: Run): Promise<void> {
    const tally = new Tally();
    for (const [queue, status] of [
      [QueueName.Ingest, ['pending', 'processing']],
      [QueueName.Cleanup, ['deleting']],
    ] as const) {
      const failed = await this.jobs.queue(queue).getFailed(0, JOB_CHECK_LIMIT - 1);
      const wanted = failed
        .map((job) => job.data as { documentId?: unknown; generation?: unknown })
        .filter(
          (d): d is { documentId: string; generation: number } =>
            typeof d.documentId === 'string' &&
            isUuid(d.documentId) &&
            Number.isInteger(d.generation),
        );
      if (wanted.length === 0) continue;
      const rows = await rowsOf<{ id: string }>(
        this.db.manager(),
        `SELECT d.id::text AS id FROM unnest($1::uuid[], $2::int[]) AS j(id, generation)
           JOIN documents d ON d.id = j.id AND d.generation = j.generation
          WHERE d.status = ANY($3::text[])`,
        [wanted.map((d) => d.documentId), wanted.map((d) => d.generation), [...status]],
      );
      for (const row of rows) tally.add(row.id);
    }
    run.warning(
      'failed_jobs',
      tally,
      'jobs that failed for good while their document still needs them (re-enqueued below)',
    );
  }

  private async pendingWithoutJob(run: Run): Promise<void> {
    const docs = await this.documentsWithoutJob('pending', JobName.IngestDocument);
    const tally = new Tally();
    for (const doc of docs) tally.add(doc.id);
    let requeued = 0;
    if (run.fix)
      for (const doc of docs) if (await this.enqueue(JobName.IngestDocument, doc)) requeued++;
    run.warning(
      'pending_without_job',
      tally,
      'pending documents that no ingest job will pick up',
      requeued,
    );
  }

  private async stuckDeleting(run: Run): Promise<void> {
    const docs = await this.documentsWithoutJob('deleting', JobName.CleanupDocument);
    const tally = new Tally();
    for (const doc of docs) tally.add(doc.id);
    let redriven = 0;
    if (run.fix)
      for (const doc of docs) if (await this.enqueue(JobName.CleanupDocument, doc)) redriven++;
    run.warning(
      'stuck_deleting',
      tally,
      'deleting documents that no cleanup job will pick up',
      redriven,
    );
  }

  private async documentsWithoutJob(
    status: 'pending' | 'deleting',
    name: JobName.IngestDocument | JobName.CleanupDocument,
  ): Promise<{ id: string; generation: number }[]> {
    const docs = await rowsOf<{ id: string; generation: number }>(
      this.db.manager(),
      `SELECT id::text AS id, generation FROM documents
        WHERE status = $1 AND updated_at < now() - make_interval(secs => $2)
        ORDER BY updated_at LIMIT $3`,
      [status, GRACE_SECONDS, JOB_CHECK_LIMIT],
    );
    const out: { id: string; generation: number }[] = [];
    for (const doc of docs) {
      const jobId = jobIdFor({ name, data: { documentId: doc.id, generation: doc.generation } });
      if (!jobId || !(await this.jobs.hasLiveJob(name, jobId))) out.push(doc);
    }
    return out;
  }

  /** Idempotent (deterministic job id); a finished job of that id is replaced. */
  private async enqueue(
    name: JobName.IngestDocument | JobName.CleanupDocument,
    doc: { id: string; generation: number },
  ): Promise<boolean> {
    const { created } = await this.jobs.enqueue(
      { name, data: { documentId: doc.id, generation: doc.generation } },
      { replaceFinished: true },
    );
    return created;
  }
}

type Verdict = 'current' | 'in_flight' | 'orphan' | 'lost_chunk_row';

/** Whether a point belongs, given its document and chunk row as PostgreSQL sees them now. */
export function classify(
  point: StoredPoint,
  row: Pick<PointRow, 'status' | 'doc_generation' | 'has_chunk'> | undefined,
): Verdict {
  const generation = point.payload.generation;
  if (!row || row.status === null || row.doc_generation === null) return 'orphan';
  if (!Number.isInteger(generation)) return 'orphan';
  switch (row.status) {
    case 'completed':
      if (generation !== row.doc_generation) return 'orphan';
      return row.has_chunk ? 'current' : 'lost_chunk_row';
    case 'pending':
    case 'processing':
      if (generation === row.doc_generation) return 'in_flight';
      return generation < row.doc_generation && row.has_chunk ? 'in_flight' : 'orphan';
    default:
      // failed, deleting, deleted: no generation of these can become current again
      return 'orphan';
  }
}

class Run {
  readonly findings = new Map<FindingKind, Finding>();
  readonly repairs: Repair[] = [];
  readonly timings: Record<string, number> = {};
  readonly totals = { pointsScanned: 0, chunksChecked: 0 };
  readonly skipped: string[] = [];

  constructor(readonly fix: boolean) {}

  async time<T>(phase: string, work: () => Promise<T>): Promise<T> {
    const started = Date.now();
    try {
      return await work();
    } finally {
      this.timings[phase] = Date.now() - started;
    }
  }

  critical(kind: FindingKind, message: string, examples: readonly string[] = []): void {
    this.findings.set(kind, {
      kind,
      severity: 'critical',
      count: 1,
      examples: examples.slice(0, EXAMPLES),
      message,
      checked: true,
    });
  }

  skip(kinds: FindingKind[], reason: string): void {
    for (const kind of kinds) {
      this.findings.set(kind, {
        kind,
        severity: FINDING_KINDS[kind],
        count: 0,
        examples: [],
        message: `not checked: ${reason}`,
        checked: false,
      });
    }
    this.skipped.push(`${kinds.join(', ')}: ${reason}`);
  }

  warning(kind: FindingKind, tally: Tally, message: string, repaired = 0): void {
    this.findings.set(kind, {
      kind,
      severity: FINDING_KINDS[kind],
      count: tally.count,
      examples: tally.examples.slice(0, EXAMPLES),
      message,
      checked: true,
    });
    if (repaired > 0) this.repairs.push({ kind, count: repaired });
  }

  report(durationMs: number): IntegrityReport {
    const findings = (Object.keys(FINDING_KINDS) as FindingKind[]).map(
      (kind) =>
        this.findings.get(kind) ?? {
          kind,
          severity: FINDING_KINDS[kind],
          count: 0,
          examples: [],
          message: 'ok',
          checked: true,
        },
    );
    const overall: Overall = findings.some((f) => f.count > 0 && f.severity === 'critical')
      ? 'critical'
      : findings.some((f) => f.count > 0)
        ? 'warning'
        : 'healthy';
    return {
      overall,
      fix: this.fix,
      checkedAt: new Date().toISOString(),
      findings,
      repairs: this.repairs,
      timings: this.timings,
      totals: this.totals,
      skipped: this.skipped,
      durationMs,
    };
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
