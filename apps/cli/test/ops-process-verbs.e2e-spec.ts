import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { createServer } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ReconcileStack, waitFor } from '../../worker/test/support/reconcile-stack';

jest.setTimeout(240_000);

const ROOT = path.resolve(__dirname, '../../..');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function sh(
  command: string,
  args: string[],
  env: Record<string, string>,
  { timeoutMs = 120_000, input }: { timeoutMs?: number; input?: string } = {},
) {
  return new Promise<Run>((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: ROOT,
      env,
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (input !== undefined) child.stdin?.end(input);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} still running after ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * The process verbs on this machine: `make start|ps|logs|logs-error|safe-stop|safe-start|
 * stop|clean-logs` against api and worker processes the verbs start themselves, with pid
 * files and logs in a temporary RUN_DIR, talking to this file's database and queues.
 */
describe('process verbs (make, .tooling/procs.sh)', () => {
  let stack: ReconcileStack;
  let runDir: string;
  let env: Record<string, string>;
  const make = (...args: string[]) => sh('make', ['-s', ...args], env);
  const pids = () =>
    Object.fromEntries(
      fs
        .readdirSync(runDir)
        .filter((f) => f.endsWith('.pid'))
        .map((f) => [f.slice(0, -4), Number(fs.readFileSync(path.join(runDir, f), 'utf8'))]),
    );

  beforeAll(async () => {
    stack = await ReconcileStack.start('ops_procs');
    runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'quarry-ops-procs-'));
    env = {
      ...(process.env as Record<string, string>),
      ...stack.env(),
      LOG_LEVEL: 'info',
      RUN_DIR: runDir,
      QUARRY_STATE_DIR: path.join(runDir, 'state'),
      PORT: String(await freePort()),
      WORKER_HTTP_PORT: String(await freePort()),
      METRICS_PORT: String(await freePort()),
      STOP_TIMEOUT: '20',
      READY_TIMEOUT: '120',
    };
    delete env.MAKEFLAGS;
    delete env.MAKELEVEL;
  });

  afterAll(async () => {
    if (runDir) {
      await sh('bash', ['.tooling/procs.sh', 'stop'], env).catch(() => undefined);
      for (const pid of Object.values(pids())) if (alive(pid)) process.kill(pid, 'SIGKILL');
      fs.rmSync(runDir, { recursive: true, force: true });
    }
    await stack?.close();
  });

  it('up, ps, logs and logs-error act on detached processes with pid files', async () => {
    const start = await make('up');
    expect(start.code).toBe(0);
    expect(start.stdout).toMatch(/schema is current, nothing to apply/);
    expect(start.stdout).toMatch(/qdrant: QDRANT_URL=\S+ is given, not starting the emulator/);
    expect(start.stdout).toMatch(/api: started \(pid \d+/);
    expect(start.stdout).toMatch(/worker: started \(pid \d+/);
    expect(start.stdout).toMatch(/api: ready on/);
    const { api, worker } = pids();
    expect(alive(api) && alive(worker)).toBe(true);

    expect((await make('start')).stdout).toMatch(/api: already running/);
    const ps = await make('ps');
    expect(ps.stdout).toMatch(new RegExp(`api\\s+${api}\\s+running`));
    expect(ps.stdout).toMatch(new RegExp(`worker\\s+${worker}\\s+running`));
    expect(ps.stdout).toMatch(/qdrant\s+-\s+stopped/);

    // the started worker really works
    const id = await stack.upload('a document for the detached worker');
    await stack.waitForStatus([id], 'completed', 60_000);

    const logs = await sh('make', ['-s', 'logs', 'FOLLOW=0'], { ...env, FOLLOW: '0' });
    expect(logs.stdout).toMatch(/==> .*api\.log <==/);
    expect(logs.stdout).toMatch(/processing ingest/);

    expect((await make('logs-error')).stdout).toMatch(/no error lines/);
    fs.appendFileSync(
      path.join(runDir, 'logs', 'worker.log'),
      '{"level":50,"msg":"embedding provider refused the request"}\n',
    );
    expect((await make('logs-error')).stdout).toMatch(
      /worker\.log:.*embedding provider refused the request/,
    );
  });

  it('pause, unpause, check-jobs and db-shell go through the cli and psql', async () => {
    const shell = await sh('make', ['-s', 'db-shell'], env, {
      input: 'SELECT count(*) AS documents_now FROM documents;\n',
    });
    expect(shell.code).toBe(0);
    expect(shell.stdout).toMatch(/documents_now[ \t]*\n-+[ \t]*\n[ \t]*1[ \t]*\n/);

    expect((await make('pause', 'QUEUE=ingest')).stdout).toMatch(/ingest: paused/);
    // the cli logs to stdout: keep this run's log lines out of its JSON
    const quiet = { ...env, LOG_LEVEL: 'silent' };
    const jobs = JSON.parse((await sh('make', ['-s', 'check-jobs', 'JSON=1'], quiet)).stdout) as {
      queues: { name: string; paused: boolean }[];
    };
    expect(jobs.queues.find((q) => q.name === 'ingest')?.paused).toBe(true);
    expect((await make('unpause')).stdout).toMatch(/ingest: resumed/);
  });

  it('safe-stop stops the processes, safe-start starts them again; restart, down and clean-logs', async () => {
    const before = pids();
    const stop = await make('safe-stop', 'GRACE=2s');
    expect(stop.code).toBe(0);
    expect(stop.stdout).toMatch(/queues paused/);
    expect(stop.stdout).toMatch(/api \(pid \d+\): stopped/);
    expect(stop.stdout).toMatch(/worker \(pid \d+\): stopped/);
    expect(alive(before.api) || alive(before.worker)).toBe(false);
    expect(pids()).toEqual({});
    expect((await make('ps')).stdout).toMatch(/api\s+-\s+stopped/);

    const start = await make('safe-start');
    expect(start.code).toBe(0);
    expect(start.stdout).toMatch(/queues resumed \(ingest, cleanup, maintenance\)/);
    expect(start.stdout).toMatch(/api: ready on/);
    const after = pids();
    expect(alive(after.api) && alive(after.worker)).toBe(true);

    const restart = await make('restart');
    expect(restart.stdout).toMatch(/api: stopped[\s\S]*api: started/);
    const restarted = pids();
    expect(restarted.api).not.toBe(after.api);
    expect(alive(after.api)).toBe(false);

    const down = await make('down');
    expect(down.stdout).toMatch(/api: stopped/);
    expect(down.stdout).toMatch(/worker: stopped/);
    await waitFor('processes gone', async () =>
      alive(restarted.api) || alive(restarted.worker) ? undefined : true,
    );
    expect(pids()).toEqual({});

    const clean = await make('clean-logs');
    expect(clean.stdout).toMatch(/emptied .*api\.log/);
    expect(fs.statSync(path.join(runDir, 'logs', 'api.log')).size).toBe(0);
  });
  it('the data verbs reach the cli through make, with their variables', async () => {
    const out = path.join(runDir, 'backup');
    const dump = path.join(runDir, 'db.dump');
    const ok = async (...args: string[]) => {
      const run = await make(...args);
      // a failing verb shows its stderr in the diff; warnings of a passing one do not matter
      const stderr = run.code === 0 ? '' : run.stderr;
      expect({ args, code: run.code, stderr }).toEqual({ args, code: 0, stderr: '' });
      return run.stdout;
    };
    expect(await ok('check-data')).toMatch(/healthy/);
    expect(await ok('check-data-fix')).toMatch(/healthy/);
    expect(await ok('reset-stuck-jobs', 'OLDER_THAN=30m')).toMatch(/no document stuck .* 30m/);
    expect(await ok('clean-orphans', 'DRY_RUN=1')).toMatch(/nothing to clean/);
    expect(await ok('reindex')).toMatch(/reindexed 1 document\(s\)/);
    expect(await ok('backup-all', `OUT=${out}`, 'GRACE=5s')).toMatch(/backup written to/);
    expect(fs.readdirSync(out).sort()).toEqual([
      'manifest.json',
      'postgres.dump',
      'qdrant.snapshot',
    ]);
    await ok('db-backup', `FILE=${dump}`);
    expect(fs.statSync(dump).size).toBeGreaterThan(0);

    expect(await ok('reset-soft', 'YES=1')).toMatch(/documents\s*│\s*1/);
    const refused = await make('restore', `DIR=${out}`);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/is not empty/);
    expect(await ok('restore', `DIR=${out}`, 'FORCE=1')).toMatch(/check-data: ✅ healthy/);
    expect(await ok('db-restore', `FILE=${dump}`, 'FORCE=1')).toMatch(/documents\s*│\s*1/);
    expect(await ok('reset-hard', 'YES=1', 'JSON=1')).toMatch(/"apiKeys": 0/);
    expect((await make('db-restore')).stderr).toMatch(/usage: make db-restore FILE=/);
  });
});
