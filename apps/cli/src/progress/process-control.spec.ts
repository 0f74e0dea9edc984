import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cleanTemporaryFiles, pidFiles, stopProcesses } from './process-control';

describe('process control over pid files', () => {
  let dir: string;
  const children: ChildProcess[] = [];

  const node = (script: string) => {
    const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
    children.push(child);
    return child;
  };
  const exited = (child: ChildProcess) =>
    new Promise<void>((resolve) =>
      child.exitCode !== null || child.signalCode !== null
        ? resolve()
        : child.once('exit', () => resolve()),
    );

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quarry-pids-'));
  });

  afterEach(async () => {
    for (const child of children.splice(0)) {
      child.kill('SIGKILL');
      await exited(child);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lists pid files in stop order: api, worker, qdrant, then the rest by name', () => {
    for (const [name, pid] of [
      ['qdrant', 30],
      ['worker-2', 20],
      ['api', 10],
      ['worker', 15],
    ] as const)
      fs.writeFileSync(path.join(dir, `${name}.pid`), `${pid}\n`);
    fs.writeFileSync(path.join(dir, 'broken.pid'), 'not a pid');
    expect(pidFiles(dir).map((p) => [p.name, p.pid])).toEqual([
      ['api', 10],
      ['worker', 15],
      ['qdrant', 30],
      ['worker-2', 20],
    ]);
  });

  it('stops with SIGTERM, kills what ignores it, and forgets pids that are gone', async () => {
    const polite = node(
      `process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000)`,
    );
    const stubborn = node(`process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)`);
    const gone = node('');
    await exited(gone);
    // let both install their handlers before the signal
    await new Promise((resolve) => setTimeout(resolve, 500));
    fs.writeFileSync(path.join(dir, 'api.pid'), String(polite.pid));
    fs.writeFileSync(path.join(dir, 'worker.pid'), String(stubborn.pid));
    fs.writeFileSync(path.join(dir, 'qdrant.pid'), String(gone.pid));

    const stopped = await stopProcesses(1_000, dir);
    expect(stopped.map((p) => [p.name, p.outcome])).toEqual([
      ['api', 'stopped'],
      ['worker', 'killed'],
      ['qdrant', 'gone'],
    ]);
    await Promise.all([exited(polite), exited(stubborn)]);
    expect(polite.exitCode).toBe(0);
    expect(stubborn.signalCode).toBe('SIGKILL');
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('cleans the run directory tmp and half-written reindex checkpoints only', () => {
    const state = path.join(dir, 'state');
    process.env.QUARRY_STATE_DIR = state;
    try {
      fs.mkdirSync(path.join(dir, 'tmp', 'upload'), { recursive: true });
      fs.mkdirSync(path.join(state, 'reindex'), { recursive: true });
      fs.writeFileSync(path.join(state, 'reindex', 'db-all.json'), '{}');
      fs.writeFileSync(path.join(state, 'reindex', 'db-all.json.123.tmp'), '{');
      fs.writeFileSync(path.join(dir, 'api.pid'), '1');

      expect(
        cleanTemporaryFiles(dir)
          .map((f) => path.relative(dir, f))
          .sort(),
      ).toEqual([path.join('state', 'reindex', 'db-all.json.123.tmp'), 'tmp']);
      expect(fs.readdirSync(path.join(state, 'reindex'))).toEqual(['db-all.json']);
      expect(fs.existsSync(path.join(dir, 'api.pid'))).toBe(true);
    } finally {
      delete process.env.QUARRY_STATE_DIR;
    }
  });
});
