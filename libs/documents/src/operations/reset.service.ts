import { Inject, Injectable } from '@nestjs/common';
import { QuarryConfig } from '@quarry/config';
import { DbService } from '@quarry/db';
import { CLIENT_REDIS, JobQueueService, QueueName } from '@quarry/queue';
import { QdrantGateway } from '@quarry/vector';
import type Redis from 'ioredis';
import { rowsOf } from '../sql';

export type ResetMode = 'soft' | 'hard';

export interface ResetReport {
  mode: ResetMode;
  database: string;
  removed: {
    documents: number;
    documentBlobs: number;
    chunks: number;
    points: number;
    jobs: number;
    cacheEntries: number;
    collections: number;
    apiKeys: number;
    /** the Qdrant collection was dropped and created again, empty (hard reset) */
    vectorCollection: boolean;
  };
}

/** Tables a soft reset empties; a hard one empties these and the owners' collections and keys. */
const SOFT_TABLES = ['chunks', 'document_blobs', 'documents'] as const;
const HARD_TABLES = [...SOFT_TABLES, 'collections', 'api_keys'] as const;

/** Queues whose jobs all refer to documents; the maintenance queue keeps its schedule. */
const DOCUMENT_QUEUES = [QueueName.Ingest, QueueName.Cleanup] as const;

/**
 * Empties a Quarry installation for a fresh start. The soft reset removes every document
 * with its blob, chunks, points, jobs and cache entries, and keeps the owners' collections
 * and API keys; the hard reset also removes those and drops the Qdrant collection. The
 * schema (tables, migrations, the empty Qdrant collection) always stays.
 *
 * The caller (cli) asks for confirmation and refuses production without an explicit flag.
 */
@Injectable()
export class ResetService {
  constructor(
    private readonly db: DbService,
    private readonly jobs: JobQueueService,
    private readonly vectors: QdrantGateway,
    private readonly config: QuarryConfig,
    @Inject(CLIENT_REDIS) private readonly redis: Redis,
  ) {}

  get databaseName(): string {
    return new URL(this.config.db.url).pathname.slice(1);
  }

  async reset(mode: ResetMode): Promise<ResetReport> {
    const tables = mode === 'hard' ? HARD_TABLES : SOFT_TABLES;
    // PostgreSQL first: once the rows are gone nothing can re-create points or jobs for them.
    const counts = await this.db.transaction(async (m) => {
      const found: Record<string, number> = {};
      for (const table of tables) {
        const [{ count }] = await rowsOf<{ count: string }>(
          m,
          `SELECT count(*) AS count FROM ${table}`,
        );
        found[table] = Number(count);
      }
      await m.query(`TRUNCATE ${tables.join(', ')}`);
      return found;
    });

    const jobs = await this.removeDocumentJobs();
    const cacheEntries = await this.removeCacheEntries();
    let points = 0;
    let vectorCollection = false;
    const info = await this.vectors.collectionInfo();
    if (mode === 'hard') {
      points = info.pointsCount;
      if (info.exists) vectorCollection = await this.vectors.deleteCollection();
      await this.vectors.bootstrap();
    } else if (info.exists) {
      points = await this.removeAllPoints();
    }

    return {
      mode,
      database: this.databaseName,
      removed: {
        documents: counts.documents ?? 0,
        documentBlobs: counts.document_blobs ?? 0,
        chunks: counts.chunks ?? 0,
        points,
        jobs,
        cacheEntries,
        collections: counts.collections ?? 0,
        apiKeys: counts.api_keys ?? 0,
        vectorCollection,
      },
    };
  }

  private async removeAllPoints(): Promise<number> {
    let removed = 0;
    // Each pass deletes what it read; pages restart from the start until nothing is left.
    for (;;) {
      const page = await this.firstPage();
      if (page.length === 0) return removed;
      await this.vectors.deletePoints(page);
      removed += page.length;
    }
  }

  private async firstPage(): Promise<string[]> {
    for await (const page of this.vectors.scrollAll({ batchSize: 1_000 })) {
      return page.map((point) => point.id);
    }
    return [];
  }

  private async removeDocumentJobs(): Promise<number> {
    let removed = 0;
    for (const name of DOCUMENT_QUEUES) {
      const queue = this.jobs.queue(name);
      const counts = await queue.getJobCounts();
      removed += Object.values(counts).reduce((sum, n) => sum + (n ?? 0), 0);
      const paused = await queue.isPaused();
      await queue.obliterate({ force: true });
      // obliterate forgets the pause: an operator who paused the queue keeps it paused
      if (paused) await queue.pause();
    }
    return removed;
  }

  /** Cache entries live under `<QUEUE_PREFIX>:cache:`; nothing else in Redis is touched. */
  private async removeCacheEntries(): Promise<number> {
    let removed = 0;
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(
        cursor,
        'MATCH',
        `${this.config.redis.prefix}:cache:*`,
        'COUNT',
        500,
      );
      cursor = next;
      if (keys.length > 0) removed += await this.redis.del(...keys);
    } while (cursor !== '0');
    return removed;
  }
}
