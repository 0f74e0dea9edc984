import { INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigOverrides, loadConfig, QuarryConfig } from '@quarry/config';
import { CoreModule } from '@quarry/core';
import { DbService } from '@quarry/db';
import {
  CollectionsService,
  DocumentsModule,
  DocumentsService,
  IntegrityService,
  ReconcilerService,
  SEARCH_MODES,
  SearchModule,
  SearchService,
} from '@quarry/documents';
import { JobQueueService } from '@quarry/queue';
import { createTestDatabase, TestDatabase } from '@quarry/testing';
import { QdrantGateway } from '@quarry/vector';
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { workerModuleFor } from '../../src/worker-processors';
import { dropRedisPrefix } from '@quarry/testing';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROOT = path.resolve(__dirname, '../../../..');
export const WORKER_ENTRY = path.join(ROOT, 'dist/apps/worker/src/main.js');
export const CLI_ENTRY = path.join(ROOT, 'dist/apps/cli/src/main.js');

/** Fast maintenance so a test sees the reconciler act within seconds. */
export const FAST_MAINTENANCE: ConfigOverrides = {
  RECONCILE_INTERVAL_MS: 2_000,
  STALE_HEARTBEAT_MS: 15_000,
  WORKER_LOCK_DURATION_MS: 5_000,
  CLEANUP_MAX_ATTEMPTS: 3,
};

@Module({})
class ProducerModule {}

/**
 * One database, Redis prefix and Qdrant collection for a test file, a producer context
 * (what the api uses: documents, integrity, the gateway) and workers started in-process
 * or spawned from dist when a test must kill one.
 */
export class ReconcileStack {
  readonly workers: INestApplicationContext[] = [];
  readonly spawned = new Set<ChildProcess>();
  client!: INestApplicationContext;
  config!: QuarryConfig;
  ownerId = 'owner-' + randomBytes(3).toString('hex');
  collectionId!: string;

  private constructor(
    readonly db: TestDatabase,
    readonly prefix: string,
    readonly collection: string,
    private qdrantUrl: string,
    readonly redisUrl: string,
    readonly overrides: ConfigOverrides,
    /** what the apps connect to: the test database, or a pooler in front of it */
    readonly databaseUrl: string,
  ) {}

  static async start(
    name: string,
    options: {
      qdrantUrl?: string;
      redisUrl?: string;
      overrides?: ConfigOverrides;
      /** routes the apps' connections, e.g. through PgBouncer */
      databaseVia?: (directUrl: string) => string;
    } = {},
  ): Promise<ReconcileStack> {
    const suffix = randomBytes(4).toString('hex');
    const db = await createTestDatabase(`rec_${name}`);
    const stack = new ReconcileStack(
      db,
      `quarry-test-${name}-${suffix}`,
      `quarry_test_${name.replace(/[^a-z0-9]/gi, '_')}_${suffix}`,
      options.qdrantUrl ?? process.env.QDRANT_URL ?? 'http://127.0.0.1:6333',
      options.redisUrl ?? REDIS_URL,
      options.overrides ?? {},
      options.databaseVia?.(db.url) ?? db.url,
    );
    stack.config = stack.configFor('api');
    try {
      stack.client = await NestFactory.createApplicationContext(
        {
          module: ProducerModule,
          imports: [
            CoreModule.forRoot({ config: stack.config, queueRole: 'producer' }),
            DocumentsModule,
            SearchModule,
          ],
        },
        { logger: false },
      );
      await stack.client.init();
      const collection = await stack.client
        .get(CollectionsService)
        .create(stack.ownerId, { name: 'reconcile' });
      stack.collectionId = collection.id;
    } catch (err) {
      await stack.close();
      throw err;
    }
    return stack;
  }

  configFor(app: 'api' | 'worker' | 'cli', extra: ConfigOverrides = {}): QuarryConfig {
    return loadConfig({ app, env: {}, overrides: { ...this.env(), ...extra } as ConfigOverrides });
  }

  /** The environment a spawned worker or cli needs (strings, as a process sees them). */
  env(extra: ConfigOverrides = {}): Record<string, string> {
    const all: ConfigOverrides = {
      NODE_ENV: 'test',
      DATABASE_URL: this.databaseUrl,
      REDIS_URL: this.redisUrl,
      QUEUE_PREFIX: this.prefix,
      QDRANT_URL: this.qdrantUrl,
      QDRANT_COLLECTION: this.collection,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      LOG_PRETTY: false,
      WORKER_HTTP_PORT: 0,
      SHUTDOWN_GRACE_MS: 3_000,
      ...this.overrides,
      ...extra,
    };
    return Object.fromEntries(Object.entries(all).map(([k, v]) => [k, String(v)]));
  }

  get documents(): DocumentsService {
    return this.client.get(DocumentsService);
  }
  get integrity(): IntegrityService {
    return this.client.get(IntegrityService);
  }
  get reconciler(): ReconcilerService {
    return this.client.get(ReconcilerService);
  }
  get vectors(): QdrantGateway {
    return this.client.get(QdrantGateway);
  }
  get jobs(): JobQueueService {
    return this.client.get(JobQueueService);
  }
  get dbService(): DbService {
    return this.client.get(DbService);
  }

  /** Documents any search mode returns for this query (the owner's whole library). */
  async searchedDocuments(
    query: string,
    modes: readonly (typeof SEARCH_MODES)[number][] = SEARCH_MODES,
  ): Promise<Set<string>> {
    const found = new Set<string>();
    for (const mode of modes) {
      const { results } = await this.client
        .get(SearchService)
        .search(this.ownerId, { query, mode, limit: 50 });
      for (const hit of results) found.add(hit.document.id);
    }
    return found;
  }

  async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.dbService.manager().query(sql, params)) as T[];
  }

  async startWorker(extra: ConfigOverrides = {}): Promise<INestApplicationContext> {
    const worker = await NestFactory.createApplicationContext(
      workerModuleFor(this.configFor('worker', extra)),
      { logger: false },
    );
    await worker.init();
    this.workers.push(worker);
    return worker;
  }

  async stopWorker(worker: INestApplicationContext): Promise<void> {
    this.workers.splice(this.workers.indexOf(worker), 1);
    await worker.close();
  }

  /** A worker in its own process, from dist (build first), so a test can SIGKILL it. */
  spawnWorker(extra: ConfigOverrides = {}): ChildProcess {
    if (!fs.existsSync(WORKER_ENTRY)) throw new Error(`${WORKER_ENTRY} missing: npm run build`);
    const child = spawn(process.execPath, [WORKER_ENTRY], {
      env: { PATH: process.env.PATH ?? '', ...this.env(extra) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.resume();
    this.spawned.add(child);
    child.once('exit', () => this.spawned.delete(child));
    return child;
  }

  async kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  async upload(text: string, title = 'doc.txt'): Promise<string> {
    const { document } = await this.documents.uploadText({
      ownerId: this.ownerId,
      collectionId: this.collectionId,
      title,
      text,
      force: true,
    });
    return document.id;
  }

  async status(id: string): Promise<{ status: string; stage: string | null; generation: number }> {
    const [row] = await this.query<{ status: string; stage: string | null; generation: number }>(
      `SELECT status, stage, generation FROM documents WHERE id = $1`,
      [id],
    );
    return row;
  }

  async chunkRows(id: string): Promise<number> {
    const [{ n }] = await this.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM chunks WHERE document_id = $1`,
      [id],
    );
    return n;
  }

  async waitForStatus(
    ids: readonly string[],
    status: string | ((s: string) => boolean),
    timeoutMs = 30_000,
  ): Promise<void> {
    const ok = typeof status === 'string' ? (s: string) => s === status : status;
    await waitFor(
      `${ids.length} document(s) to reach ${String(status)}`,
      async () => {
        const rows = await this.query<{ status: string }>(
          `SELECT status FROM documents WHERE id = ANY($1::uuid[])`,
          [ids],
        );
        return rows.length === ids.length && rows.every((r) => ok(r.status)) ? true : undefined;
      },
      timeoutMs,
    );
  }

  /**
   * Every kept document `completed` and every deleted one `deleted` within `timeoutMs`,
   * then check-data healthy (within 30 s more): no deleted document's point left, every
   * kept document's current points matching its chunk rows.
   */
  async expectConverged(
    kept: readonly string[],
    deleted: readonly string[],
    timeoutMs = 120_000,
  ): Promise<void> {
    await waitFor(
      'every document in its terminal state',
      async () => {
        const rows = await this.query<{ id: string; status: string }>(
          `SELECT id::text AS id, status FROM documents WHERE id = ANY($1::uuid[])`,
          [[...kept, ...deleted]],
        );
        const status = new Map(rows.map((r) => [r.id, r.status]));
        return kept.every((id) => status.get(id) === 'completed') &&
          deleted.every((id) => status.get(id) === 'deleted')
          ? true
          : undefined;
      },
      timeoutMs,
      500,
    );
    // A client cut off by a Redis failover may still be reconnecting for a moment: the
    // check must come out healthy once it has, not necessarily on the first try.
    let report = await this.integrity.check();
    const deadline = Date.now() + 30_000;
    while (report.overall !== 'healthy' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      report = await this.integrity.check();
    }
    expect(report.findings.filter((f) => f.count > 0)).toEqual([]);
    expect(report.overall).toBe('healthy');
    for (const id of deleted) expect(await this.vectors.countByDocument(id)).toBe(0);
    for (const id of kept) {
      const { generation } = await this.status(id);
      expect(await this.vectors.countByDocument(id, { generation })).toBe(await this.chunkRows(id));
    }
  }

  /** Every Redis key of this stack's prefix gone, as after FLUSHALL (other files' keys stay). */
  async flushQueues(): Promise<number> {
    return dropRedisPrefix(this.prefix, this.redisUrl);
  }

  async close(): Promise<void> {
    for (const child of [...this.spawned]) await this.kill(child).catch(() => undefined);
    for (const worker of this.workers.splice(0)) await worker.close().catch(() => undefined);
    await this.client?.close().catch(() => undefined);
    await this.db.drop().catch(() => undefined);
    await dropRedisPrefix(this.prefix, this.redisUrl).catch(() => undefined);
    await fetch(`${this.qdrantUrl}/collections/${this.collection}`, { method: 'DELETE' }).catch(
      () => undefined,
    );
  }
}

/** Polls until `check` returns a value, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Some paragraphs of text: several chunks at the default chunk size. */
export function sampleText(seed: string, paragraphs = 6): string {
  const words = ['quarry', 'vector', 'ledger', 'harbour', 'granite', 'meadow', 'signal', 'orbit'];
  const out: string[] = [];
  for (let p = 0; p < paragraphs; p++) {
    const line: string[] = [];
    for (let w = 0; w < 120; w++) line.push(words[(w * 7 + p * 3 + seed.length) % words.length]);
    out.push(`${seed} paragraph ${p}: ${line.join(' ')}.`);
  }
  return out.join('\n\n');
}
