import { spawnQdrantEmulator, SpawnedQdrant } from '@quarry/testing';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { CLI_ENTRY, ReconcileStack } from './support/reconcile-stack';

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

describe('quarry check-data', () => {
  let qdrant: SpawnedQdrant;
  let stack: ReconcileStack;

  beforeAll(async () => {
    qdrant = await spawnQdrantEmulator();
    stack = await ReconcileStack.start('cli', { qdrantUrl: qdrant.url });
  });

  afterAll(async () => {
    await stack?.close();
    await qdrant?.stop();
  });

  const cli = (...args: string[]): Promise<CliRun> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [CLI_ENTRY, 'check-data', ...args],
        { env: { PATH: process.env.PATH ?? '', ...stack.env() }, timeout: 30_000 },
        (err, stdout, stderr) => {
          const code = err ? ((err as { code?: number }).code ?? -1) : 0;
          resolve({ code: typeof code === 'number' ? code : -1, stdout, stderr });
        },
      );
    });

  it('exits 0 and prints ✅ healthy when everything agrees', async () => {
    const run = await cli();
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('✅ healthy');
    expect(run.stdout).toContain('orphan_points');
  });

  it('exits 1 with ⚠️ for seeded orphans, and --fix repairs them and checks again', async () => {
    const documentId = randomUUID();
    await stack.vectors.upsertChunks(
      [0, 1, 2].map((ordinal) => ({
        id: randomUUID(),
        vector: Array.from({ length: stack.config.qdrant.dimension }, () => 0.5),
        payload: {
          document_id: documentId,
          collection_id: stack.collectionId,
          owner_id: stack.ownerId,
          generation: 1,
          ordinal,
        },
      })),
    );
    const warned = await cli();
    expect(warned.code).toBe(1);
    expect(warned.stdout).toMatch(/⚠️ +│ orphan_points +│ 3 /);
    expect(warned.stdout).toContain('⚠️  warning');

    const json = await cli('--json');
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as {
      overall: string;
      findings: { kind: string; count: number }[];
    };
    expect(report.overall).toBe('warning');
    expect(report.findings.find((f) => f.kind === 'orphan_points')?.count).toBe(3);

    const fixed = await cli('--fix');
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toMatch(/repairs:\n +orphan_points: 3/);
    expect(fixed.stdout).toContain('✅ healthy');
    expect(await stack.vectors.countByDocument(documentId)).toBe(0);
  });

  it('exits 2 with ❌ critical, not a crash, when Qdrant is down', async () => {
    await qdrant.kill('SIGKILL');
    try {
      const run = await cli();
      expect(run.code).toBe(2);
      expect(run.stdout).toMatch(/❌ +│ qdrant_unreachable +│ 1 /);
      expect(run.stdout).toContain('❌ critical');
      expect(run.stdout).toMatch(/➖ +│ orphan_points/);
    } finally {
      await qdrant.restart();
    }
  });

  it('exits 2 when PostgreSQL and Redis are unreachable', async () => {
    const run = await new Promise<CliRun>((resolve) => {
      execFile(
        process.execPath,
        [CLI_ENTRY, 'check-data', '--json'],
        {
          env: {
            PATH: process.env.PATH ?? '',
            ...stack.env({
              DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
              REDIS_URL: 'redis://127.0.0.1:1',
            }),
          },
          timeout: 30_000,
        },
        (err, stdout, stderr) =>
          resolve({ code: (err as { code?: number } | null)?.code ?? 0, stdout, stderr }),
      );
    });
    expect(run.code).toBe(2);
    const report = JSON.parse(run.stdout) as { findings: { kind: string; count: number }[] };
    const failing = report.findings.filter((f) => f.count > 0).map((f) => f.kind);
    expect(failing).toEqual(['postgres_unreachable', 'redis_unreachable']);
  });
});
