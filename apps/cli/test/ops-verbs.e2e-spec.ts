import { ApiKeysService, BackupManifest, JobsReport, ResetReport } from '@quarry/documents';
import { JobName, QueueName, jobIdFor } from '@quarry/queue';
import { documentFactory } from '@quarry/testing';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { ReconcileStack } from '../../worker/test/support/reconcile-stack';
import { jsonOf, runCli } from './support/ops-cli';

/**
 * The operator's verbs as an operator runs them: the compiled cli against this file's own
 * database, Redis prefix and Qdrant collection, with exit codes and --json output checked.
 */
// every step spawns the compiled cli, which takes seconds on a shared machine
jest.setTimeout(180_000);

describe('quarry operator verbs (compiled cli)', () => {
  let stack: ReconcileStack;
  let env: Record<string, string>;
  let stateDir: string;
  const cli = (...args: string[]) => runCli(args, env);
  const count = async (table: string) =>
    (await stack.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0].n;
  const vector = (seed: number) =>
    Array.from(
      { length: stack.config.qdrant.dimension },
      (_, i) => ((i * 31 + seed) % 17) / 17 + 0.01,
    );

  /** A completed document with chunks and their points, as an ingest leaves it. */
  async function indexedDocument(chunks = 2) {
    const doc = await documentFactory(stack.client.get(DataSource), {
      status: 'completed',
      ownerId: stack.ownerId,
    })
      .inCollection(stack.collectionId)
      .withChunks(chunks)
      .create();
    await stack.vectors.upsertChunks(
      doc.chunks.map((c) => ({
        id: c.id,
        vector: vector(c.ordinal),
        payload: {
          document_id: doc.id,
          collection_id: stack.collectionId,
          owner_id: stack.ownerId,
          generation: doc.generation,
          ordinal: c.ordinal,
        },
      })),
    );
    return doc;
  }

  beforeAll(async () => {
    stack = await ReconcileStack.start('ops_verbs');
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'quarry-ops-state-'));
    env = { ...stack.env(), QUARRY_STATE_DIR: stateDir };
  });

  afterAll(async () => {
    await stack?.close();
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  it('pause and resume one queue or all; check-jobs shows paused, waiting and documents', async () => {
    const paused = await cli('pause', 'ingest', '--json');
    expect(paused.code).toBe(0);
    expect(jsonOf(paused)).toEqual({ queues: ['ingest'], paused: ['ingest'] });

    // the api side keeps accepting uploads while the queue is paused
    const id = await stack.upload('a document uploaded during maintenance');
    const report = jsonOf<JobsReport>(await cli('check-jobs', '--json'));
    const ingest = report.queues.find((q) => q.name === 'ingest');
    expect(ingest).toMatchObject({ paused: true, waiting: 1, active: 0 });
    expect(ingest?.oldestWaitingAgeMs).toEqual(expect.any(Number));
    expect(report.queues.find((q) => q.name === 'cleanup')?.paused).toBe(false);
    expect(report.documents.pending).toBe(1);

    const human = await cli('check-jobs');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/ingest\s*│\s*1\s*│\s*0\s*│\s*0\s*│\s*0\s*│\s*yes/);

    expect(jsonOf(await cli('pause', '--json'))).toEqual({
      queues: ['ingest', 'cleanup', 'maintenance'],
      paused: ['cleanup', 'maintenance'],
    });
    const resumed = await cli('resume', '--json');
    expect(jsonOf(resumed)).toMatchObject({ resumed: ['ingest', 'cleanup', 'maintenance'] });
    const after = jsonOf<JobsReport>(await cli('check-jobs', '--json'));
    expect(after.queues.every((q) => !q.paused)).toBe(true);

    const bad = await cli('pause', 'uploads');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown queue "uploads"/);
    await stack.query(`DELETE FROM documents WHERE id = $1`, [id]);
    await stack.jobs.queue(QueueName.Ingest).obliterate({ force: true });
  });

  it('reset-stuck-jobs returns only documents stuck longer than --older-than and enqueues them', async () => {
    const ds = stack.client.get(DataSource);
    const stuck = await documentFactory(ds, {
      status: 'processing',
      ownerId: stack.ownerId,
      heartbeatAt: new Date(Date.now() - 2 * 3600_000),
    })
      .inCollection(stack.collectionId)
      .create();
    const busy = await documentFactory(ds, { status: 'processing', ownerId: stack.ownerId })
      .inCollection(stack.collectionId)
      .create();

    const run = await cli('reset-stuck-jobs', '--older-than', '1h', '--json');
    expect(run.code).toBe(0);
    const result = jsonOf<{ reset: { id: string }[]; enqueued: number }>(run);
    expect(result.reset.map((d) => d.id)).toEqual([stuck.id]);
    expect(result.enqueued).toBe(1);
    expect((await stack.status(stuck.id)).status).toBe('pending');
    expect((await stack.status(busy.id)).status).toBe('processing');
    const jobId = jobIdFor({
      name: JobName.IngestDocument,
      data: { documentId: stuck.id, generation: stuck.generation },
    });
    expect(await stack.jobs.hasLiveJob(JobName.IngestDocument, String(jobId))).toBe(true);

    const bad = await cli('reset-stuck-jobs', '--older-than', 'soon');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not a duration/);
    await stack.query(`DELETE FROM documents WHERE id = ANY($1::uuid[])`, [[stuck.id, busy.id]]);
    await stack.jobs.queue(QueueName.Ingest).obliterate({ force: true });
  });

  it('clean-orphans --dry-run counts orphan points; without it deletes only those', async () => {
    const doc = await indexedDocument(2);
    const orphan = randomUUID();
    await stack.vectors.upsertChunks([
      {
        id: orphan,
        vector: vector(9),
        payload: {
          document_id: randomUUID(),
          collection_id: stack.collectionId,
          owner_id: stack.ownerId,
          generation: 1,
          ordinal: 0,
        },
      },
    ]);
    const dry = await cli('clean-orphans', '--dry-run', '--json');
    expect(dry.code).toBe(0);
    expect(jsonOf(dry)).toMatchObject({ dryRun: true, orphans: 1, deleted: 0, examples: [orphan] });
    expect(await stack.vectors.count()).toBe(3);

    const real = jsonOf<{ deleted: number }>(await cli('clean-orphans', '--json'));
    expect(real.deleted).toBe(1);
    expect(await stack.vectors.count()).toBe(2);
    expect(await stack.vectors.countByDocument(doc.id)).toBe(2);
    expect((await cli('clean-orphans')).stdout).toMatch(/0 orphan\(s\): nothing to clean/);
  });

  it('reindex rebuilds lost points from PostgreSQL, and --resume continues after its checkpoint', async () => {
    const second = await indexedDocument(3);
    const [{ total }] = await stack.query<{ total: number }>(
      `SELECT count(*)::int AS total FROM chunks`,
    );
    await stack.vectors.deletePoints(
      (await stack.query<{ id: string }>(`SELECT id::text AS id FROM chunks`)).map((r) => r.id),
    );
    expect(await stack.vectors.count()).toBe(0);

    const run = await cli('reindex', '--json');
    expect(run.code).toBe(0);
    expect(jsonOf(run)).toMatchObject({ documents: 2, chunks: total, resumedAfter: null });
    expect(await stack.vectors.count()).toBe(total);
    // the same points again, not new ones
    expect(jsonOf(await cli('reindex', '--json'))).toMatchObject({ chunks: total });
    expect(await stack.vectors.count()).toBe(total);
    const check = await stack.integrity.check();
    expect(check.findings.find((f) => f.kind === 'missing_points')?.count).toBe(0);
    expect(check.findings.find((f) => f.kind === 'orphan_points')?.count).toBe(0);

    // an interrupted run: the checkpoint names the first document as the last one done
    const ids = (
      await stack.query<{ id: string }>(`SELECT id::text AS id FROM documents ORDER BY id`)
    ).map((r) => r.id);
    const finished = jsonOf<{ checkpoint: string }>(await cli('reindex', '--json')).checkpoint;
    const checkpoint = JSON.parse(fs.readFileSync(finished, 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(
      finished,
      JSON.stringify({ ...checkpoint, lastDocumentId: ids[0], finishedAt: null }),
    );
    await stack.vectors.deleteByDocument(ids[1]);
    const resumed = await cli('reindex', '--resume', '--json');
    expect(jsonOf(resumed)).toMatchObject({ resumedAfter: ids[0], documents: 1 });
    expect(await stack.vectors.count()).toBe(total);
    expect(second.chunks).toHaveLength(3);

    const scoped = await cli('reindex', '--collection', stack.collectionId);
    expect(scoped.code).toBe(0);
    expect(scoped.stdout).toMatch(/reindex: \d+\/\d+ chunks/);
    expect(scoped.stdout).toMatch(
      /reindexed 2 document\(s\), \d+ chunk\(s\) in [\d.]+s \([\d.]+ chunks\/s\)/,
    );
  });

  it('db-backup writes a pg_dump; db-restore refuses a database with data unless --force', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quarry-ops-db-'));
    try {
      const file = path.join(dir, 'db.dump');
      const before = await count('chunks');
      const backup = await cli('db-backup', file, '--json');
      expect(backup.code).toBe(0);
      expect(jsonOf(backup)).toMatchObject({ path: file, bytes: fs.statSync(file).size });

      await indexedDocument(1);
      const refused = await cli('db-restore', file);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/is not empty .*--force/);
      expect(await count('chunks')).toBe(before + 1);

      const forced = await cli('db-restore', file, '--force', '--json');
      expect(forced.code).toBe(0);
      expect(jsonOf(forced)).toMatchObject({ counts: { chunks: before } });
      expect(await count('chunks')).toBe(before);
      await cli('clean-orphans');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('backup writes a dump, a snapshot and a manifest with counts and checksums', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quarry-ops-backup-'));
    try {
      const run = await cli('backup', '--out', dir, '--json');
      expect(run.code).toBe(0);
      const { manifest } = jsonOf<{ manifest: BackupManifest }>(run);
      expect(manifest.files.map((f) => f.name).sort()).toEqual([
        'postgres.dump',
        'qdrant.snapshot',
      ]);
      expect(manifest.counts.chunks).toBe(await count('chunks'));
      expect(manifest.vector.points).toBe(await stack.vectors.count());
      expect(manifest.versions.pgDump).toMatch(/pg_dump \(PostgreSQL\) \d+/);
      expect(manifest.versions.migrations.length).toBeGreaterThan(0);
      expect(JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'))).toEqual(
        manifest,
      );
      // the backup resumed what it paused
      expect((await stack.jobs.counts(QueueName.Ingest)).paused).toBe(false);

      // a damaged file is refused before anything is touched
      fs.appendFileSync(path.join(dir, 'postgres.dump'), 'x');
      const damaged = await cli('restore', dir, '--force');
      expect(damaged.code).toBe(2);
      expect(damaged.stderr).toMatch(/postgres.dump: checksum mismatch/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reset-soft and reset-hard refuse without confirmation or in production, then print what they removed', async () => {
    const keys = stack.client.get(ApiKeysService);
    await keys.create({ ownerId: stack.ownerId, role: 'user' });
    const documents = await count('documents');
    expect(documents).toBeGreaterThan(0);

    const unconfirmed = await cli('reset-soft');
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toMatch(/needs confirmation: pass --yes/);
    const production = await runCli(['reset-hard', '--yes'], { ...env, NODE_ENV: 'production' });
    expect(production.code).toBe(2);
    expect(production.stderr).toMatch(/refused: NODE_ENV=production .*--force-production/);
    expect(await count('documents')).toBe(documents);

    const chunks = await count('chunks');
    const points = await stack.vectors.count();
    const soft = await cli('reset-soft', '--yes', '--json');
    expect(soft.code).toBe(0);
    expect(jsonOf<ResetReport>(soft).removed).toMatchObject({
      documents,
      chunks,
      points,
      collections: 0,
      apiKeys: 0,
    });
    expect(await count('documents')).toBe(0);
    expect(await stack.vectors.count()).toBe(0);
    expect(await count('collections')).toBe(1);
    expect(await count('api_keys')).toBe(1);

    const hard = await cli('reset-hard', '--yes');
    expect(hard.code).toBe(0);
    expect(hard.stdout).toMatch(/collections\s*│\s*1/);
    expect(hard.stdout).toMatch(/api keys\s*│\s*1/);
    expect(await count('collections')).toBe(0);
    expect(await count('api_keys')).toBe(0);
    const info = await stack.vectors.collectionInfo();
    expect(info).toMatchObject({ exists: true, pointsCount: 0 });
  });
});
