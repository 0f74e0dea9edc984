import { Injectable, Logger } from '@nestjs/common';
import { QuarryConfig } from '@quarry/config';
import { DbService } from '@quarry/db';
import { QdrantGateway } from '@quarry/vector';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { rowsOf } from '../sql';
import { DrainProgress, QueueControlService } from './queue-control.service';
import { ReindexProgress, ReindexService } from './reindex.service';

const run = promisify(execFile);

export const MANIFEST_FILE = 'manifest.json';
export const DATABASE_DUMP_FILE = 'postgres.dump';
export const SNAPSHOT_FILE = 'qdrant.snapshot';
/** The tables whose row counts a manifest records (and a restore compares). */
export const COUNTED_TABLES = [
  'collections',
  'documents',
  'document_blobs',
  'chunks',
  'api_keys',
] as const;
export type CountedTable = (typeof COUNTED_TABLES)[number];

export interface BackupFile {
  name: string;
  bytes: number;
  sha256: string;
}

export interface BackupManifest {
  format: 1;
  createdAt: string;
  versions: {
    quarry: string;
    node: string;
    postgres: string;
    pgDump: string;
    qdrant: string | null;
    migrations: string[];
  };
  database: string;
  vector: {
    collection: string;
    dimension: number | null;
    distance: string | null;
    points: number;
    snapshot: string | null;
  };
  embedding: { provider: string; model: string; dimension: number };
  counts: Record<CountedTable, number>;
  files: BackupFile[];
  /** active jobs still running when the dump began (0 for a fully consistent point) */
  activeJobsAtDump: number;
}

export interface BackupOptions {
  /** how long to wait for active jobs once ingestion is paused (default 30 s) */
  graceMs?: number;
  onDrain?: (progress: DrainProgress) => void;
  onStep?: (step: string) => void;
}

export interface RestoreOptions {
  force?: boolean;
  onStep?: (step: string) => void;
  onReindex?: (progress: ReindexProgress) => void;
}

export interface RestoreReport {
  directory: string;
  database: string;
  counts: Record<CountedTable, number>;
  expectedCounts: Record<CountedTable, number>;
  points: number;
  expectedPoints: number;
  /** how the points came back */
  vectors: 'snapshot' | 'reindex';
  snapshotError: string | null;
  /** pending documents of the backup put on the ingest queue again */
  requeued: number;
}

/** The target of a restore holds data and --force was not given. */
export class RestoreRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RestoreRefusedError';
  }
}

/** A backup file does not match its manifest checksum. */
export class BackupChecksumError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupChecksumError';
  }
}

/**
 * Backups at a consistent point and their restore. PostgreSQL is dumped with pg_dump
 * (custom format) and the Qdrant collection is snapshotted while ingestion and cleanup
 * are paused, so every completed document in the dump has its points in the snapshot.
 * Uploads keep arriving meanwhile: they are pending, have no points yet, and the queue
 * takes them on again when the backup resumes it.
 */
@Injectable()
export class BackupService {
  private readonly logger = new Logger('Backup');

  constructor(
    private readonly db: DbService,
    private readonly vectors: QdrantGateway,
    private readonly queues: QueueControlService,
    private readonly reindexer: ReindexService,
    private readonly config: QuarryConfig,
  ) {}

  get databaseName(): string {
    return new URL(this.config.db.url).pathname.slice(1);
  }

  async backup(outDir: string, options: BackupOptions = {}): Promise<BackupManifest> {
    const step = options.onStep ?? (() => undefined);
    fs.mkdirSync(outDir, { recursive: true });
    step('pausing the queues');
    const paused = await this.queues.pause();
    try {
      step('waiting for active jobs');
      const drain = await this.queues.waitForActive(options.graceMs ?? 30_000, options.onDrain);
      if (!drain.idle) {
        this.logger.warn(
          `${drain.active} job(s) still active at the dump; the reconciler will finish them`,
        );
      }
      step('dumping PostgreSQL');
      const dumpFile = path.join(outDir, DATABASE_DUMP_FILE);
      await this.pgDump(dumpFile);
      const counts = await this.tableCounts();
      step('snapshotting Qdrant');
      const info = await this.vectors.collectionInfo();
      let snapshot: string | null = null;
      const files = [await describeFile(dumpFile)];
      if (info.exists) {
        snapshot = await this.vectors.createSnapshot();
        const snapshotFile = path.join(outDir, SNAPSHOT_FILE);
        try {
          await this.vectors.downloadSnapshot(snapshot, snapshotFile);
        } finally {
          // the copy lives in the backup directory; do not let snapshots pile up on the server
          await this.vectors.deleteSnapshot(snapshot).catch(() => undefined);
        }
        files.push(await describeFile(snapshotFile));
      }
      const manifest: BackupManifest = {
        format: 1,
        createdAt: new Date().toISOString(),
        versions: {
          quarry: quarryVersion(),
          node: process.version,
          postgres: await this.serverVersion(),
          pgDump: await toolVersion(pgTool('pg_dump')),
          qdrant: await this.qdrantVersion(),
          migrations: await this.appliedMigrations(),
        },
        database: this.databaseName,
        vector: {
          collection: this.config.qdrant.collection,
          dimension: info.dimension,
          distance: info.distance,
          points: info.exists ? await this.vectors.count() : 0,
          snapshot,
        },
        embedding: {
          provider: this.config.embedding.provider,
          model: this.config.embedding.model,
          dimension: this.config.embedding.dimension,
        },
        counts,
        files,
        activeJobsAtDump: drain.active,
      };
      fs.writeFileSync(path.join(outDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
      return manifest;
    } finally {
      step('resuming the queues');
      // only what this backup paused: a queue the operator had paused stays paused
      await this.queues.resume(paused);
    }
  }

  async restore(dir: string, options: RestoreOptions = {}): Promise<RestoreReport> {
    const step = options.onStep ?? (() => undefined);
    const manifest = readManifest(dir);
    step('verifying checksums');
    await verifyFiles(dir, manifest.files);
    await this.assertRestorable(options.force);

    step('restoring PostgreSQL');
    await this.pgRestore(path.join(dir, DATABASE_DUMP_FILE));

    let vectors: RestoreReport['vectors'] = 'snapshot';
    let snapshotError: string | null = null;
    const snapshotFile = path.join(dir, SNAPSHOT_FILE);
    const snapshotEntry = manifest.files.find((f) => f.name === SNAPSHOT_FILE);
    try {
      if (!snapshotEntry) throw new Error('the backup holds no Qdrant snapshot');
      if (manifest.vector.collection !== this.config.qdrant.collection) {
        this.logger.warn(
          `snapshot of "${manifest.vector.collection}" recovered into "${this.config.qdrant.collection}"`,
        );
      }
      if (manifest.embedding.model !== this.config.embedding.model) {
        throw new Error(
          `the snapshot holds ${manifest.embedding.model} vectors; this installation embeds with ${this.config.embedding.model}`,
        );
      }
      step('recovering the Qdrant snapshot');
      await this.vectors.recoverFromSnapshotFile(snapshotFile, { checksum: snapshotEntry.sha256 });
      await this.vectors.bootstrap();
      const points = await this.vectors.count();
      if (points !== manifest.vector.points) {
        throw new Error(
          `the snapshot gave ${points} points, the manifest says ${manifest.vector.points}`,
        );
      }
    } catch (err) {
      snapshotError = err instanceof Error ? err.message : String(err);
      this.logger.warn(
        `snapshot not usable (${snapshotError}): rebuilding the points from PostgreSQL`,
      );
      step('snapshot not usable: reindexing from PostgreSQL');
      vectors = 'reindex';
      await this.vectors.bootstrap();
      await this.reindexer.reindex({ onProgress: options.onReindex });
    }
    // uploads accepted while the backup ran are pending in it; the queue has never seen them here
    step('enqueueing pending documents');
    const { enqueued } = await this.queues.requeuePending();
    return {
      directory: path.resolve(dir),
      database: this.databaseName,
      counts: await this.tableCounts(),
      expectedCounts: manifest.counts,
      points: await this.vectors.count(),
      expectedPoints: manifest.vector.points,
      vectors,
      snapshotError,
      requeued: enqueued,
    };
  }

  /** PostgreSQL alone (`db-backup`). */
  async dumpDatabase(file: string): Promise<BackupFile & { path: string }> {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    await this.pgDump(file);
    return { path: path.resolve(file), ...(await describeFile(file)) };
  }

  /** PostgreSQL alone (`db-restore`); refuses a database with data unless forced. */
  async restoreDatabase(file: string, { force = false }: { force?: boolean } = {}) {
    if (!fs.existsSync(file)) throw new Error(`${file} does not exist`);
    await this.assertRestorable(force);
    await this.pgRestore(file);
    return {
      file: path.resolve(file),
      database: this.databaseName,
      counts: await this.tableCounts(),
    };
  }

  /** Row counts of the data tables; 0 for a table that does not exist yet. */
  async tableCounts(): Promise<Record<CountedTable, number>> {
    const counts = {} as Record<CountedTable, number>;
    for (const table of COUNTED_TABLES) {
      const [{ exists }] = await this.db.read((m) =>
        rowsOf<{ exists: boolean }>(m, `SELECT to_regclass($1) IS NOT NULL AS exists`, [
          `public.${table}`,
        ]),
      );
      counts[table] = exists
        ? Number(
            (
              await this.db.read((m) =>
                rowsOf<{ count: string }>(m, `SELECT count(*) AS count FROM ${table}`),
              )
            )[0].count,
          )
        : 0;
    }
    return counts;
  }

  private async assertRestorable(force = false): Promise<void> {
    if (force) return;
    const counts = await this.tableCounts();
    const filled = COUNTED_TABLES.filter((t) => counts[t] > 0);
    if (filled.length > 0) {
      throw new RestoreRefusedError(
        `database ${this.databaseName} is not empty (${filled.map((t) => `${t}: ${counts[t]}`).join(', ')}); ` +
          'restore over it with --force, or reset it first',
      );
    }
  }

  private async pgDump(file: string): Promise<void> {
    await run(
      pgTool('pg_dump'),
      ['--format=custom', '--no-owner', `--file=${file}`, `--dbname=${this.config.db.url}`],
      { maxBuffer: 16 * 1024 * 1024 },
    );
  }

  private async pgRestore(file: string): Promise<void> {
    await run(
      pgTool('pg_restore'),
      [
        '--clean',
        '--if-exists',
        '--no-owner',
        '--single-transaction',
        '--exit-on-error',
        `--dbname=${this.config.db.url}`,
        file,
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    );
  }

  private async serverVersion(): Promise<string> {
    const [{ version }] = await this.db.read((m) =>
      rowsOf<{ version: string }>(m, `SELECT current_setting('server_version') AS version`),
    );
    return version;
  }

  private async appliedMigrations(): Promise<string[]> {
    const rows = await this.db.read((m) =>
      rowsOf<{ name: string }>(m, `SELECT name FROM migrations ORDER BY id`),
    );
    return rows.map((r) => r.name);
  }

  private async qdrantVersion(): Promise<string | null> {
    try {
      const headers: Record<string, string> = {};
      if (this.config.qdrant.apiKey) headers['api-key'] = this.config.qdrant.apiKey;
      const res = await fetch(new URL('/', this.config.qdrant.url), {
        headers,
        signal: AbortSignal.timeout(5_000),
      });
      const body = (await res.json()) as { version?: string };
      return body.version ?? null;
    } catch {
      return null;
    }
  }
}

/** pg_dump / pg_restore, or the binaries named by PG_DUMP / PG_RESTORE. */
function pgTool(name: 'pg_dump' | 'pg_restore'): string {
  return (name === 'pg_dump' ? process.env.PG_DUMP : process.env.PG_RESTORE) ?? name;
}

async function toolVersion(tool: string): Promise<string> {
  const { stdout } = await run(tool, ['--version']);
  return stdout.trim();
}

export function readManifest(dir: string): BackupManifest {
  const file = path.join(dir, MANIFEST_FILE);
  if (!fs.existsSync(file)) throw new Error(`${file} not found: not a Quarry backup directory`);
  const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as BackupManifest;
  if (manifest.format !== 1)
    throw new Error(`${file}: unknown manifest format ${String(manifest.format)}`);
  return manifest;
}

async function verifyFiles(dir: string, files: readonly BackupFile[]): Promise<void> {
  for (const entry of files) {
    const file = path.join(dir, entry.name);
    if (!fs.existsSync(file)) throw new BackupChecksumError(`${entry.name} is missing from ${dir}`);
    const actual = await describeFile(file);
    if (actual.sha256 !== entry.sha256 || actual.bytes !== entry.bytes) {
      throw new BackupChecksumError(
        `${entry.name}: checksum mismatch (manifest ${entry.sha256}, file ${actual.sha256})`,
      );
    }
  }
}

export async function describeFile(file: string): Promise<BackupFile> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of fs.createReadStream(file)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { name: path.basename(file), bytes, sha256: hash.digest('hex') };
}

function quarryVersion(): string {
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      const parsed = JSON.parse(fs.readFileSync(pkg, 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (parsed.name === 'quarry') return parsed.version ?? 'unknown';
    }
    const parent = path.dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}
