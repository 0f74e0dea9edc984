import 'reflect-metadata';
import { INestApplicationContext, Logger, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadConfig, QuarryConfig } from '@quarry/config';
import { CoreModule } from '@quarry/core';
import { DbService } from '@quarry/db';
import {
  CollectionsService,
  DocumentsModule,
  DocumentsService,
  IntegrityReport,
  IntegrityService,
  SEARCH_MODES,
  SearchModule,
  SearchService,
} from '@quarry/documents';
import {
  createTestDatabase,
  spawnQdrantEmulator,
  SpawnedQdrant,
  TestDatabase,
} from '@quarry/testing';
import Redis from 'ioredis';
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { Client } from 'pg';

/**
 * The deletion and reconciliation soak: uploads, deletes, reprocesses and searches from a
 * client (the documents and search services, in-process), two spawned workers, and faults
 * injected at random (database connections terminated, Qdrant down for 10 s, a worker
 * SIGKILLed and restarted, Redis FLUSHALL).
 * Then it stops the faults, waits for the reconciler, and asserts: zero orphan points,
 * zero missing points, every document in the terminal state its client asked for, and
 * no search ever returned a document after its delete was accepted.
 *
 *   npm run soak -- --minutes 10 [--workers 2] [--out bench/results/soak.json]
 *
 * Everything runs on private resources: its own database, its own Redis server (so the
 * FLUSHALL touches nobody else) and its own Qdrant emulator.
 */

const ROOT = findRoot();
const WORKER_ENTRY = path.join(ROOT, 'dist/apps/worker/src/main.js');
const OWNER = 'soak-owner';
const FAULT_EVERY_MS: [number, number] = [15_000, 35_000];
const QDRANT_OUTAGE_MS = 10_000;
const CONVERGE_TIMEOUT_MS = 5 * 60_000;
const MAX_LIVE_DOCUMENTS = 400;

type Intent = 'completed' | 'deleted';
type Fault = 'pg_terminate' | 'qdrant_outage' | 'worker_kill' | 'redis_flushall';

interface Args {
  minutes: number;
  workers: number;
  out: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { minutes: 1, workers: 2, out: path.join(ROOT, 'bench/results/soak.json') };
  for (let i = 0; i < argv.length; i++) {
    const next = argv[i + 1];
    if (argv[i] === '--minutes' && next) args.minutes = Number(next);
    if (argv[i] === '--workers' && next) args.workers = Number(next);
    if (argv[i] === '--out' && next) args.out = path.resolve(next);
  }
  if (!(args.minutes > 0) || !Number.isInteger(args.workers) || args.workers < 1)
    throw new Error('usage: soak --minutes N [--workers W] [--out file]');
  return args;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)];
const between = ([lo, hi]: [number, number]) => lo + Math.random() * (hi - lo);
const log = (line: string) => process.stdout.write(`[soak ${new Date().toISOString()}] ${line}\n`);

@Module({})
class SoakClientModule {}

class Soak {
  readonly intents = new Map<string, Intent>();
  /** documents whose delete was accepted (the 202 received), with when */
  readonly deletedAt = new Map<string, number>();
  readonly ops = {
    uploads: 0,
    deletes: 0,
    reprocesses: 0,
    reprocessRefused: 0,
    searches: 0,
    searchErrors: 0,
    opErrors: 0,
  };
  readonly faults: Record<Fault, number> = {
    pg_terminate: 0,
    qdrant_outage: 0,
    worker_kill: 0,
    redis_flushall: 0,
  };
  readonly violations: string[] = [];
  readonly workers: (ChildProcess | undefined)[] = [];
  private stopping = false;
  collectionId = '';

  constructor(
    readonly args: Args,
    readonly db: TestDatabase,
    readonly redis: PrivateRedis,
    readonly qdrant: SpawnedQdrant,
    readonly config: QuarryConfig,
    readonly client: INestApplicationContext,
    readonly workerEnv: Record<string, string>,
  ) {}

  get documents() {
    return this.client.get(DocumentsService);
  }

  spawnWorker(slot: number): void {
    const child = spawn(process.execPath, [WORKER_ENTRY], {
      env: { PATH: process.env.PATH ?? '', ...this.workerEnv },
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    this.workers[slot] = child;
    child.once('exit', () => {
      if (this.workers[slot] === child) this.workers[slot] = undefined;
    });
  }

  async killWorker(slot: number): Promise<void> {
    const child = this.workers[slot];
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  // ------------------------------------------------------------ the client's work

  async clientLoop(until: number): Promise<void> {
    while (Date.now() < until && !this.stopping) {
      const roll = Math.random();
      try {
        if (roll < 0.4) await this.upload();
        else if (roll < 0.6) await this.deleteOne();
        else if (roll < 0.72) await this.reprocessOne();
        else await this.search();
      } catch {
        this.ops.opErrors++;
      }
      await sleep(100 + Math.random() * 200);
    }
  }

  private live(): string[] {
    return [...this.intents].filter(([, intent]) => intent === 'completed').map(([id]) => id);
  }

  private async upload(): Promise<void> {
    if (this.live().length >= MAX_LIVE_DOCUMENTS) return this.deleteOne();
    const seed = randomBytes(4).toString('hex');
    const { document } = await this.documents.uploadText({
      ownerId: OWNER,
      collectionId: this.collectionId,
      title: `soak-${seed}`,
      text: soakText(seed),
      force: true,
    });
    this.intents.set(document.id, 'completed');
    this.ops.uploads++;
  }

  private async deleteOne(): Promise<void> {
    const candidates = this.live();
    if (candidates.length === 0) return;
    const id = pick(candidates);
    // the intent changes before the call (no reprocess is picked for it meanwhile); the
    // moment that counts for search is the 202: every search started after it must miss it
    this.intents.set(id, 'deleted');
    await this.documents.delete(OWNER, id);
    this.deletedAt.set(id, Date.now());
    this.ops.deletes++;
  }

  private async reprocessOne(): Promise<void> {
    const candidates = this.live();
    if (candidates.length === 0) return;
    try {
      await this.documents.reprocess(OWNER, pick(candidates));
      this.ops.reprocesses++;
    } catch {
      this.ops.reprocessRefused++;
    }
  }

  /** The search service in a random mode; a document whose delete was accepted must never come back. */
  private async search(): Promise<void> {
    const askedAt = Date.now();
    try {
      const { results } = await this.client.get(SearchService).search(OWNER, {
        query: `${pick(WORDS)} ${pick(WORDS)}`,
        mode: pick(SEARCH_MODES),
        limit: 20,
      });
      for (const hit of results) {
        const deletedAt = this.deletedAt.get(hit.document.id);
        if (deletedAt !== undefined && deletedAt < askedAt)
          this.violations.push(`search returned ${hit.document.id} after its delete was accepted`);
      }
      this.ops.searches++;
    } catch {
      this.ops.searchErrors++;
    }
  }

  // ------------------------------------------------------------ faults

  /** Random faults, drawn from a shuffled deck so every kind comes up in a long enough run. */
  async faultLoop(until: number): Promise<void> {
    const deck: Fault[] = [];
    while (!this.stopping) {
      await sleep(between(FAULT_EVERY_MS));
      if (Date.now() >= until || this.stopping) return;
      if (deck.length === 0)
        deck.push(
          ...(['pg_terminate', 'qdrant_outage', 'worker_kill', 'redis_flushall'] as const)
            .map((f) => ({ f, key: Math.random() }))
            .sort((a, b) => a.key - b.key)
            .map(({ f }) => f),
        );
      const fault = deck.shift() as Fault;
      try {
        await this.inject(fault);
        this.faults[fault]++;
      } catch (err) {
        log(`fault ${fault} could not be injected: ${String(err)}`);
      }
    }
  }

  async inject(fault: Fault): Promise<void> {
    switch (fault) {
      case 'pg_terminate': {
        const n = await terminateWorkerConnections(this.db.url);
        log(`fault: terminated ${n} worker database connections`);
        return;
      }
      case 'qdrant_outage':
        log(`fault: Qdrant down for ${QDRANT_OUTAGE_MS / 1000} s`);
        await this.qdrant.kill('SIGTERM');
        await sleep(QDRANT_OUTAGE_MS);
        await this.qdrant.restart();
        log('Qdrant back');
        return;
      case 'worker_kill': {
        const slot = Math.floor(Math.random() * this.args.workers);
        log(`fault: SIGKILL worker ${slot}`);
        await this.killWorker(slot);
        await sleep(1_000 + Math.random() * 2_000);
        this.spawnWorker(slot);
        return;
      }
      case 'redis_flushall': {
        const keys = await this.redis.flushAll();
        log(`fault: FLUSHALL (${keys} keys)`);
        return;
      }
    }
  }

  stop(): void {
    this.stopping = true;
  }

  /** 30 uploads at once and 10 of them deleted straight away, all still in flight. */
  async finalBurst(): Promise<void> {
    const ids = await Promise.all(
      Array.from({ length: 30 }, async () => {
        const seed = randomBytes(4).toString('hex');
        const { document } = await this.documents.uploadText({
          ownerId: OWNER,
          collectionId: this.collectionId,
          title: `soak-final-${seed}`,
          text: soakText(seed),
          force: true,
        });
        this.intents.set(document.id, 'completed');
        this.ops.uploads++;
        return document.id;
      }),
    );
    for (const id of ids.slice(0, 10)) {
      this.intents.set(id, 'deleted');
      await this.documents.delete(OWNER, id);
      this.deletedAt.set(id, Date.now());
      this.ops.deletes++;
    }
  }

  // ------------------------------------------------------------ convergence

  async mismatches(): Promise<{
    count: number;
    examples: string[];
    byStatus: Record<string, number>;
  }> {
    const ids = [...this.intents.keys()];
    const rows: { id: string; status: string }[] = await this.client
      .get(DbService)
      .manager()
      .query(`SELECT id::text AS id, status FROM documents WHERE id = ANY($1::uuid[])`, [ids]);
    const byStatus: Record<string, number> = {};
    const examples: string[] = [];
    let count = 0;
    const seen = new Map(rows.map((r) => [r.id, r.status]));
    for (const [id, intent] of this.intents) {
      const status = seen.get(id) ?? 'missing';
      byStatus[status] = (byStatus[status] ?? 0) + 1;
      if (status !== intent) {
        count++;
        if (examples.length < 10) examples.push(`${id}: ${status}, asked ${intent}`);
      }
    }
    return { count, examples, byStatus };
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(WORKER_ENTRY)) throw new Error(`${WORKER_ENTRY} is missing: npm run build`);
  Logger.overrideLogger(['error']);
  const startedAt = new Date();
  log(`starting: ${args.minutes} min, ${args.workers} workers`);

  const db = await createTestDatabase('soak');
  const redis = await startPrivateRedis();
  const qdrant = await spawnQdrantEmulator();
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    QUEUE_PREFIX: 'quarry-soak',
    QDRANT_URL: qdrant.url,
    QDRANT_COLLECTION: 'quarry_soak',
    LOG_LEVEL: 'warn',
    LOG_PRETTY: 'false',
    WORKER_HTTP_PORT: '0',
    WORKER_CONCURRENCY: '2',
    RECONCILE_INTERVAL_MS: '3000',
    STALE_HEARTBEAT_MS: '15000',
    WORKER_LOCK_DURATION_MS: '5000',
    CLEANUP_MAX_ATTEMPTS: '4',
    SHUTDOWN_GRACE_MS: '3000',
  };
  const config = loadConfig({ app: 'api', env: {}, overrides: { ...env, LOG_LEVEL: 'error' } });
  const client = await NestFactory.createApplicationContext(
    {
      module: SoakClientModule,
      imports: [
        CoreModule.forRoot({ config, queueRole: 'producer' }),
        DocumentsModule,
        SearchModule,
      ],
    },
    { logger: ['error'] },
  );
  await client.init();
  const soak = new Soak(args, db, redis, qdrant, config, client, env);
  // an interrupted soak leaves no worker, server or database behind
  const abort = () => {
    soak.stop();
    void (async () => {
      for (let slot = 0; slot < args.workers; slot++) await soak.killWorker(slot).catch(() => {});
      await qdrant.stop().catch(() => undefined);
      await redis.stop().catch(() => undefined);
      await client.close().catch(() => undefined);
      await db.drop().catch(() => undefined);
      process.exit(130);
    })();
  };
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  let exitCode: number;
  try {
    soak.collectionId = (await client.get(CollectionsService).create(OWNER, { name: 'soak' })).id;
    for (let slot = 0; slot < args.workers; slot++) soak.spawnWorker(slot);

    const until = Date.now() + args.minutes * 60_000;
    const progress = setInterval(
      () =>
        log(
          `ops ${JSON.stringify(soak.ops)} faults ${JSON.stringify(soak.faults)} documents ${soak.intents.size}`,
        ),
      30_000,
    );
    await Promise.all([soak.clientLoop(until), soak.clientLoop(until), soak.faultLoop(until)]);
    clearInterval(progress);
    soak.stop();
    log('load and faults stopped; waiting for the reconciler');

    // the platform would have restarted anything still down
    if (!qdrant.pid) await qdrant.restart();
    for (let slot = 0; slot < args.workers; slot++) if (!soak.workers[slot]) soak.spawnWorker(slot);
    // a last blow right before the wait, so convergence is measured from real damage:
    // a burst of work in flight, then the queues forgotten and a worker killed mid-way
    await soak.finalBurst();
    await soak.inject('redis_flushall');
    await soak.inject('worker_kill');
    soak.faults.redis_flushall++;
    soak.faults.worker_kill++;

    const convergeStarted = Date.now();
    let report: IntegrityReport | undefined;
    let state = await soak.mismatches();
    while (Date.now() - convergeStarted < CONVERGE_TIMEOUT_MS) {
      state = await soak.mismatches();
      if (state.count === 0) {
        report = await client.get(IntegrityService).check();
        if (report.overall === 'healthy') break;
      }
      await sleep(2_000);
    }
    const convergeMs = Date.now() - convergeStarted;
    report ??= await client.get(IntegrityService).check();
    const finding = (kind: string) => report?.findings.find((f) => f.kind === kind)?.count ?? -1;
    const pass =
      state.count === 0 &&
      finding('orphan_points') === 0 &&
      finding('missing_points') === 0 &&
      report.overall === 'healthy' &&
      soak.violations.length === 0;
    const summary = {
      startedAt: startedAt.toISOString(),
      minutes: args.minutes,
      workers: args.workers,
      operations: soak.ops,
      faults: soak.faults,
      documents: { total: soak.intents.size, byStatus: state.byStatus },
      convergence: { ms: convergeMs, converged: state.count === 0 && report.overall === 'healthy' },
      mismatches: state,
      orphanPoints: finding('orphan_points'),
      missingPoints: finding('missing_points'),
      integrity: {
        overall: report.overall,
        findings: report.findings.filter((f) => f.count > 0),
        pointsScanned: report.totals.pointsScanned,
        chunksChecked: report.totals.chunksChecked,
        durationMs: report.durationMs,
      },
      deletedSeenInSearch: soak.violations.length,
      violations: soak.violations.slice(0, 10),
      loadAverage: (await import('node:os')).loadavg(),
      pass,
    };
    fs.mkdirSync(path.dirname(args.out), { recursive: true });
    fs.writeFileSync(args.out, `${JSON.stringify(summary, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    log(`${pass ? 'PASS' : 'FAIL'}; summary written to ${path.relative(ROOT, args.out)}`);
    exitCode = pass ? 0 : 1;
  } finally {
    soak.stop();
    for (let slot = 0; slot < args.workers; slot++)
      await soak.killWorker(slot).catch(() => undefined);
    await client.close().catch(() => undefined);
    await qdrant.stop().catch(() => undefined);
    await redis.stop().catch(() => undefined);
    await db.drop().catch(() => undefined);
  }
  process.exit(exitCode);
}

// ------------------------------------------------------------ helpers

const WORDS = [
  'quarry',
  'ledger',
  'harbour',
  'granite',
  'meadow',
  'signal',
  'orbit',
  '문서',
  '검색',
];

function soakText(seed: string): string {
  const words = WORDS;
  const paragraphs = 2 + (parseInt(seed.slice(0, 2), 16) % 5);
  const out: string[] = [];
  for (let p = 0; p < paragraphs; p++) {
    const line: string[] = [];
    for (let w = 0; w < 110; w++)
      line.push(words[(w * 5 + p + seed.charCodeAt(w % seed.length)) % words.length]);
    out.push(`${seed} ${p}: ${line.join(' ')}.`);
  }
  return out.join('\n\n');
}

async function terminateWorkerConnections(url: string): Promise<number> {
  const admin = new Client({ connectionString: url, application_name: 'soak-fault-injector' });
  admin.on('error', () => undefined);
  await admin.connect();
  try {
    const { rows } = await admin.query<{ ok: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
        WHERE datname = current_database() AND application_name LIKE 'quarry-worker%'`,
    );
    return rows.filter((r) => r.ok).length;
  } finally {
    await admin.end();
  }
}

interface PrivateRedis {
  url: string;
  flushAll(): Promise<number>;
  stop(): Promise<void>;
}

async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port: free } = server.address() as AddressInfo;
      server.close(() => resolve(free));
    });
  });
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  process.once('exit', () => child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server not ready: ${out}`)), 10_000);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  child.stdout?.resume();
  const url = `redis://127.0.0.1:${port}`;
  return {
    url,
    async flushAll() {
      const redis = new Redis(url, { maxRetriesPerRequest: 1 });
      try {
        const keys = await redis.dbsize();
        await redis.flushall();
        return keys;
      } finally {
        redis.disconnect();
      }
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

function findRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (
      fs.existsSync(pkg) &&
      (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'quarry'
    )
      return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the quarry repository root');
    dir = parent;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`soak failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
