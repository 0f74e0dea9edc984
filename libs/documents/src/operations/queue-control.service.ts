import { Injectable, Logger } from '@nestjs/common';
import { DbService, DOCUMENT_STATUSES, DocumentStatus } from '@quarry/db';
import { ALL_QUEUES, JobName, JobQueueService, QueueName } from '@quarry/queue';
import { rowsOf } from '../sql';

export interface QueueJobsReport {
  name: QueueName;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  prioritized: number;
  completed: number;
  paused: boolean;
  /** age of the oldest waiting job in milliseconds; null when nothing waits */
  oldestWaitingAgeMs: number | null;
}

export interface JobsReport {
  queues: QueueJobsReport[];
  documents: Record<DocumentStatus, number>;
  generatedAt: string;
}

export interface DrainProgress {
  active: number;
  elapsedMs: number;
  graceMs: number;
}

export interface DrainResult {
  /** true when no job was active any more before the grace ran out */
  idle: boolean;
  active: number;
  waitedMs: number;
}

export interface ResetStuckResult {
  olderThanMs: number;
  reset: { id: string; generation: number }[];
  enqueued: number;
}

export interface RequeueResult {
  pending: number;
  enqueued: number;
  /** pending documents whose ingest job was already live */
  alreadyQueued: number;
}

/** What a document handed back by an operator carries in its `error` column. */
export const STOPPED_DURING_PROCESSING = 'stopped during processing';

/** Parses a queue argument (`ingest`, `cleanup`, `maintenance`); none means all queues. */
export function parseQueueNames(name?: string): QueueName[] {
  if (name === undefined || name === '' || name === 'all') return [...ALL_QUEUES];
  const known = ALL_QUEUES.find((queue) => queue === name);
  if (!known) {
    throw new Error(`unknown queue "${name}": expected one of ${ALL_QUEUES.join(', ')} or all`);
  }
  return [known];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The operator's hold on the job flow, shared by the cli and the admin api: pause and
 * resume (BullMQ's global pause, so every worker of the fleet stops taking jobs while
 * the api keeps accepting uploads), the jobs report, waiting for active jobs, handing
 * documents back and putting pending ones on the queue again.
 */
@Injectable()
export class QueueControlService {
  private readonly logger = new Logger('QueueControl');

  constructor(
    private readonly jobs: JobQueueService,
    private readonly db: DbService,
  ) {}

  /** Pauses the queues; returns those that were running until now. */
  async pause(names: readonly QueueName[] = ALL_QUEUES): Promise<QueueName[]> {
    const paused: QueueName[] = [];
    for (const name of names) {
      const queue = this.jobs.queue(name);
      if (await queue.isPaused()) continue;
      await queue.pause();
      paused.push(name);
    }
    return paused;
  }

  /** Resumes the queues; returns those that were paused until now. */
  async resume(names: readonly QueueName[] = ALL_QUEUES): Promise<QueueName[]> {
    const resumed: QueueName[] = [];
    for (const name of names) {
      const queue = this.jobs.queue(name);
      if (!(await queue.isPaused())) continue;
      await queue.resume();
      resumed.push(name);
    }
    return resumed;
  }

  async checkJobs(): Promise<JobsReport> {
    const queues: QueueJobsReport[] = [];
    for (const name of ALL_QUEUES) {
      const counts = await this.jobs.counts(name);
      const [oldest] = await this.jobs.queue(name).getJobs(['wait'], 0, 0, true);
      queues.push({
        name,
        waiting: counts.waiting,
        active: counts.active,
        delayed: counts.delayed,
        failed: counts.failed,
        prioritized: counts.prioritized,
        completed: counts.completed,
        paused: counts.paused,
        oldestWaitingAgeMs: oldest ? Math.max(0, Date.now() - oldest.timestamp) : null,
      });
    }
    return {
      queues,
      documents: await this.documentsByStatus(),
      generatedAt: new Date().toISOString(),
    };
  }

  async documentsByStatus(): Promise<Record<DocumentStatus, number>> {
    const rows = await this.db.read((m) =>
      rowsOf<{ status: DocumentStatus; count: string }>(
        m,
        `SELECT status, count(*) AS count FROM documents GROUP BY status`,
      ),
    );
    const byStatus = Object.fromEntries(DOCUMENT_STATUSES.map((s) => [s, 0])) as Record<
      DocumentStatus,
      number
    >;
    for (const row of rows) byStatus[row.status] = Number(row.count);
    return byStatus;
  }

  async activeCount(names: readonly QueueName[] = ALL_QUEUES): Promise<number> {
    let active = 0;
    for (const name of names) active += (await this.jobs.counts(name)).active;
    return active;
  }

  /** Waits until no job is active (the queues should be paused first) or the grace ends. */
  async waitForActive(
    graceMs: number,
    onTick: (progress: DrainProgress) => void = () => undefined,
    { pollMs = 250, names = ALL_QUEUES }: { pollMs?: number; names?: readonly QueueName[] } = {},
  ): Promise<DrainResult> {
    const started = Date.now();
    for (;;) {
      const active = await this.activeCount(names);
      const elapsedMs = Date.now() - started;
      onTick({ active, elapsedMs: Math.min(elapsedMs, graceMs), graceMs });
      if (active === 0) return { idle: true, active, waitedMs: elapsedMs };
      if (elapsedMs >= graceMs) return { idle: false, active, waitedMs: elapsedMs };
      await sleep(Math.min(pollMs, graceMs - elapsedMs));
    }
  }

  /**
   * Documents in `processing` whose heartbeat is older than `olderThanMs` go back to
   * `pending` and get their ingest job again. With 0, every processing document does
   * (safe-stop, once the workers are gone).
   */
  async resetStuck(
    olderThanMs: number,
    note = 'reset by an operator: stuck in processing',
  ): Promise<ResetStuckResult> {
    const reset = await this.handBack(olderThanMs, note);
    let enqueued = 0;
    for (const doc of reset) if (await this.enqueueIngest(doc.id, doc.generation)) enqueued++;
    return { olderThanMs, reset, enqueued };
  }

  /** `processing` → `pending` (no enqueue: the queues may be paused or about to stop). */
  async handBack(
    olderThanMs: number,
    note = STOPPED_DURING_PROCESSING,
  ): Promise<{ id: string; generation: number }[]> {
    return this.db.transaction((m) =>
      rowsOf<{ id: string; generation: number }>(
        m,
        `UPDATE documents
            SET status = 'pending', stage = NULL, error = $2, heartbeat_at = NULL, updated_at = now()
          WHERE status = 'processing'
            AND coalesce(heartbeat_at, updated_at) <= now() - make_interval(secs => $1::double precision / 1000)
        RETURNING id, generation`,
        [olderThanMs, note],
      ),
    );
  }

  /** Puts every `pending` document without a live ingest job back on the queue. */
  async requeuePending(): Promise<RequeueResult> {
    const pending = await this.db.read((m) =>
      rowsOf<{ id: string; generation: number }>(
        m,
        `SELECT id, generation FROM documents WHERE status = 'pending' ORDER BY created_at`,
      ),
    );
    let enqueued = 0;
    for (const doc of pending) if (await this.enqueueIngest(doc.id, doc.generation)) enqueued++;
    return { pending: pending.length, enqueued, alreadyQueued: pending.length - enqueued };
  }

  private async enqueueIngest(documentId: string, generation: number): Promise<boolean> {
    const { created } = await this.jobs.enqueue(
      { name: JobName.IngestDocument, data: { documentId, generation } },
      { replaceFinished: true },
    );
    if (created) this.logger.debug(`ingest of ${documentId}@${generation} enqueued`);
    return created;
  }
}
