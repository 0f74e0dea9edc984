import { hashApiKey } from '@quarry/documents';
import {
  createTestDatabase,
  spawnQdrantEmulator,
  SpawnedQdrant,
  TestDatabase,
} from '@quarry/testing';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { BenchProcess, compiledEntry, freePort } from './bench-process';
import { dropRedisPrefix } from '@quarry/testing';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Everything a benchmark runs against, all of its own: a fresh database with the
 * migrations applied, a Redis key prefix, a Qdrant emulator process (or QDRANT_URL) and a
 * collection name, plus the api and worker processes it spawns from dist/. close()
 * removes all of it, so a run leaves nothing behind.
 */
export class BenchStack {
  readonly processes: BenchProcess[] = [];
  readonly queuePrefix: string;
  readonly qdrantCollection: string;
  readonly logDir: string;
  private closed = false;

  private constructor(
    readonly name: string,
    readonly db: TestDatabase,
    readonly qdrantUrl: string,
    private readonly emulator: SpawnedQdrant | undefined,
  ) {
    const suffix = randomBytes(4).toString('hex');
    this.queuePrefix = `quarry-bench-${name}-${suffix}`;
    this.qdrantCollection = `quarry_bench_${name}_${suffix}`;
    this.logDir = mkdtempSync(join(tmpdir(), `quarry-bench-${name}-`));
  }

  static async start(name: string): Promise<BenchStack> {
    const db = await createTestDatabase(`quarry_bench_${name}`);
    let emulator: SpawnedQdrant | undefined;
    try {
      // BENCH_SETUP_SQL="DROP INDEX ix_chunks_text_hangul_trgm": a schema experiment on the
      // benchmark's own database, run after the migrations.
      if (process.env.BENCH_SETUP_SQL) {
        const client = new Client({ connectionString: db.url });
        await client.connect();
        try {
          await client.query(process.env.BENCH_SETUP_SQL);
        } finally {
          await client.end();
        }
      }
      if (!process.env.QDRANT_URL) emulator = await spawnQdrantEmulator();
      return new BenchStack(name, db, process.env.QDRANT_URL ?? emulator!.url, emulator);
    } catch (err) {
      await emulator?.stop();
      await db.drop();
      throw err;
    }
  }

  /**
   * The settings a production deployment gives api and worker: NODE_ENV=production needs
   * every URL spelled out. Logs are JSON at LOG_LEVEL (production default: info).
   */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      LOG_PRETTY: 'false',
      DATABASE_URL: this.db.url,
      REDIS_URL,
      QDRANT_URL: this.qdrantUrl,
      QUEUE_PREFIX: this.queuePrefix,
      QDRANT_COLLECTION: this.qdrantCollection,
      ...extraFromEnvironment(),
      ...extra,
    };
  }

  /** A Node script (compiled under dist/) in its own process, its output in the log dir. */
  spawn(name: string, relativeEntry: string, env: Record<string, string>): BenchProcess {
    // BENCH_CPU_PROFILE_DIR: each spawned process writes a V8 CPU profile there on exit
    // (open it in Chrome DevTools), to see where a slow target spends its time.
    const profileDir = process.env.BENCH_CPU_PROFILE_DIR;
    const child = new BenchProcess(
      name,
      compiledEntry(relativeEntry),
      profileDir
        ? {
            ...env,
            NODE_OPTIONS: `${env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${profileDir} --cpu-prof-name=${name}.cpuprofile`,
          }
        : env,
      join(this.logDir, `${name}.log`),
    );
    this.processes.push(child);
    return child;
  }

  async startApi(
    extra: Record<string, string> = {},
  ): Promise<{ api: BenchProcess; url: string; metricsUrl: string }> {
    const port = await freePort();
    const metricsPort = await freePort();
    const api = this.spawn(
      'api',
      'apps/api/src/main.js',
      this.env({ PORT: String(port), METRICS_PORT: String(metricsPort), ...extra }),
    );
    const url = `http://127.0.0.1:${port}`;
    await api.waitForHttp(`${url}/health/ready`, 90_000);
    return { api, url, metricsUrl: `http://127.0.0.1:${metricsPort}` };
  }

  async startWorker(extra: Record<string, string> = {}): Promise<BenchProcess> {
    const port = await freePort();
    const worker = this.spawn(
      `worker-${this.processes.length}`,
      'apps/worker/src/main.js',
      this.env({ WORKER_HTTP_PORT: String(port), ...extra }),
    );
    await worker.waitForHttp(`http://127.0.0.1:${port}/health/ready`, 90_000);
    return worker;
  }

  /** A database client for setup and for watching progress (not on any measured path). */
  async pg(): Promise<Client> {
    const client = new Client({ connectionString: this.db.url, application_name: 'quarry-bench' });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  }

  /** An API key for `ownerId`, stored hashed exactly as `quarry api-keys create` stores it. */
  async createApiKey(ownerId: string): Promise<string> {
    const key = `qk_${randomBytes(24).toString('base64url')}`;
    const client = await this.pg();
    try {
      await client.query(
        `INSERT INTO api_keys (owner_id, role, key_hash, name) VALUES ($1, 'user', $2, 'bench')`,
        [ownerId, hashApiKey(key)],
      );
    } finally {
      await client.end();
    }
    return key;
  }

  /** Needed only against a real Qdrant: stopping the emulator removes its storage. */
  async deleteQdrantCollection(collection: string): Promise<void> {
    const res = await fetch(`${this.qdrantUrl}/collections/${encodeURIComponent(collection)}`, {
      method: 'DELETE',
      headers: process.env.QDRANT_API_KEY ? { 'api-key': process.env.QDRANT_API_KEY } : {},
      signal: AbortSignal.timeout(10_000),
    });
    await res.arrayBuffer();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.processes.map((p) => p.stop()));
    if (this.emulator) await this.emulator.stop().catch(() => undefined);
    else await this.deleteQdrantCollection(this.qdrantCollection).catch(() => undefined);
    await this.db.drop().catch(() => undefined);
    await dropRedisPrefix(this.queuePrefix).catch(() => undefined);
    // BENCH_KEEP_LOGS=true keeps the api, worker and floor logs for a look afterwards.
    if (process.env.BENCH_KEEP_LOGS === 'true') console.log(`logs kept in ${this.logDir}`);
    else rmSync(this.logDir, { recursive: true, force: true });
  }
}

/**
 * BENCH_PROCESS_ENV="DB_SLOW_QUERY_MS=50 WORKER_CONCURRENCY=4": settings added to every
 * process the benchmark spawns, for experiments without editing the benchmark.
 */
function extraFromEnvironment(): Record<string, string> {
  const pairs = (process.env.BENCH_PROCESS_ENV ?? '').split(/\s+/).filter(Boolean);
  return Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new Error(`BENCH_PROCESS_ENV: expected NAME=value, got ${pair}`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}
