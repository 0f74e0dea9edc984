import * as fs from 'node:fs';
import * as path from 'node:path';

export interface StoppedProcess {
  name: string;
  pid: number;
  /** stopped: exited after SIGTERM; killed: needed SIGKILL; gone: was not running */
  outcome: 'stopped' | 'killed' | 'gone';
}

/** The order processes stop in: no new requests first, then the workers, Qdrant last. */
export const STOP_ORDER = ['api', 'worker', 'qdrant'];

export function runDir(): string {
  return path.resolve(process.env.RUN_DIR ?? '.run');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A pid file can outlive its process and the pid be reused: only signal a Node process. */
function isNodeProcess(pid: number): boolean {
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /node/.test(cmdline);
  } catch {
    return process.platform !== 'linux' && alive(pid);
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return !alive(pid);
}

/** The processes with pid files under RUN_DIR (`make dev` / `make up`), in stop order. */
export function pidFiles(dir = runDir()): { name: string; file: string; pid: number }[] {
  if (!fs.existsSync(dir)) return [];
  const found = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.pid'))
    .map((f) => {
      const file = path.join(dir, f);
      return { name: f.slice(0, -4), file, pid: Number(fs.readFileSync(file, 'utf8').trim()) };
    })
    .filter((p) => Number.isInteger(p.pid) && p.pid > 0);
  const rank = (name: string) => {
    const i = STOP_ORDER.indexOf(name);
    return i === -1 ? STOP_ORDER.length : i;
  };
  return found.sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
}

/** SIGTERM each process in order, waiting for its drain; SIGKILL after `timeoutMs`. */
export async function stopProcesses(timeoutMs: number, dir = runDir()): Promise<StoppedProcess[]> {
  const stopped: StoppedProcess[] = [];
  for (const { name, file, pid } of pidFiles(dir)) {
    if (!alive(pid) || !isNodeProcess(pid)) {
      stopped.push({ name, pid, outcome: 'gone' });
      fs.rmSync(file, { force: true });
      continue;
    }
    process.kill(pid, 'SIGTERM');
    let outcome: StoppedProcess['outcome'] = 'stopped';
    if (!(await waitForExit(pid, timeoutMs))) {
      process.kill(pid, 'SIGKILL');
      await waitForExit(pid, 5_000);
      outcome = 'killed';
    }
    fs.rmSync(file, { force: true });
    stopped.push({ name, pid, outcome });
  }
  return stopped;
}

/** Leftovers of interrupted operations: RUN_DIR/tmp and half-written state files. */
export function cleanTemporaryFiles(dir = runDir()): string[] {
  const removed: string[] = [];
  const tmp = path.join(dir, 'tmp');
  if (fs.existsSync(tmp)) {
    fs.rmSync(tmp, { recursive: true, force: true });
    removed.push(tmp);
  }
  const state = path.resolve(process.env.QUARRY_STATE_DIR ?? '.data', 'reindex');
  if (fs.existsSync(state)) {
    for (const f of fs.readdirSync(state)) {
      if (f.endsWith('.tmp')) {
        fs.rmSync(path.join(state, f), { force: true });
        removed.push(path.join(state, f));
      }
    }
  }
  return removed;
}
