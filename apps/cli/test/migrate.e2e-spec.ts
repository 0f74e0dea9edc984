import { MIGRATIONS } from '@quarry/db';
import { createTestDatabase, TestDatabase } from '@quarry/testing';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';

const REPO_ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(REPO_ROOT, 'dist/apps/cli/src/main.js');
/** A hang guard, not a timing target: the process is killed and the test fails past it. */
const RUN_TIMEOUT_MS = 45_000;

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

const running = new Set<ChildProcess>();

function quarry(args: string[], env: Record<string, string>): Promise<CliRun> {
  if (!fs.existsSync(CLI)) {
    throw new Error(`${CLI} is missing: run \`npm run build\` before the integration tests`);
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'test',
        // On a loaded machine a DDL statement can pass the default 1 s slow-query mark, and
        // the cli prints that warning on stdout, which would break the --json document.
        DB_SLOW_QUERY_MS: '600000',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`quarry ${args.join(' ')} still running after ${RUN_TIMEOUT_MS} ms`));
    }, RUN_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

async function tablesOf(url: string): Promise<string[]> {
  const client = new Client({ connectionString: url, application_name: 'quarry-test-admin' });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables
        WHERE table_schema = 'public' ORDER BY table_name`,
    );
    return rows.map((r) => r.name);
  } finally {
    await client.end();
  }
}

const MODEL_TABLES = ['api_keys', 'chunks', 'collections', 'document_blobs', 'documents'];

describe('quarry migrate', () => {
  const databases: TestDatabase[] = [];

  async function freshDatabase(): Promise<TestDatabase> {
    const db = await createTestDatabase('cli_migrate', { migrate: false });
    databases.push(db);
    return db;
  }

  afterAll(async () => {
    for (const child of running) child.kill('SIGKILL');
    await Promise.all(databases.map((db) => db.drop()));
  });

  it('refuses a bad configuration with exit 78 and one line naming the variable', async () => {
    const run = await quarry(['migrate'], {
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
      DB_POOL_MAX: 'abc',
    });
    expect(run.code).toBe(78);
    const lines = run.stderr.split('\n').filter((line) => line.trim() !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/DB_POOL_MAX.*integer.*\(got "abc"\)/);
    expect(run.stdout).toBe('');
  });

  it('applies every migration to a fresh database once, in order, then nothing', async () => {
    const db = await freshDatabase();
    const env = { DATABASE_URL: db.url };

    const before = await quarry(['migrate', '--check', '--json'], env);
    expect(before.code).toBe(1);
    const pending = JSON.parse(before.stdout) as { database: string; pending: string[] };
    expect(pending.database).toBe(db.name);
    expect(pending.pending).toEqual(MIGRATIONS.map((m) => m.name));
    expect(pending.pending[0]).toMatch(/^InitialSchema\d+$/);

    const first = await quarry(['migrate', '--json'], env);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({
      database: db.name,
      applied: pending.pending,
    });
    expect(await tablesOf(db.url)).toEqual(expect.arrayContaining([...MODEL_TABLES, 'migrations']));

    const second = await quarry(['migrate', '--json'], env);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toEqual({ database: db.name, applied: [] });

    const check = await quarry(['migrate', '--check', '--json'], env);
    expect(check.code).toBe(0);
    expect(JSON.parse(check.stdout)).toEqual({ database: db.name, pending: [] });
  });

  it('applies each migration once when two runs start together (advisory lock)', async () => {
    const db = await freshDatabase();
    const runs = await Promise.all([
      quarry(['migrate', '--json'], { DATABASE_URL: db.url }),
      quarry(['migrate', '--json'], { DATABASE_URL: db.url }),
    ]);
    expect(runs.map((r) => r.code)).toEqual([0, 0]);
    const applied = runs.flatMap((r) => (JSON.parse(r.stdout) as { applied: string[] }).applied);
    expect(applied).toEqual(MIGRATIONS.map((m) => m.name));
    expect(await tablesOf(db.url)).toEqual(expect.arrayContaining(MODEL_TABLES));
  });
});
