import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Starts the Qdrant emulator for the integration tier unless QDRANT_URL points at a
 * real Qdrant. The URL is handed to test files through process.env.QDRANT_URL.
 * Test files that need their own server (crash and outage tests) use spawnQdrantEmulator().
 */

export interface SpawnQdrantOptions {
  /** Fixed port; by default the emulator picks a free one (kept across restart()). */
  port?: number;
  /** Storage directory; by default a fresh temp directory that stop() removes. */
  storage?: string;
  /** Extra environment for the emulator process (e.g. QDRANT_EMULATOR_COMPACT_BYTES). */
  env?: Record<string, string>;
  /** How long to wait for the ready line. */
  readyTimeoutMs?: number;
}

export interface SpawnedQdrant {
  readonly url: string;
  readonly port: number;
  readonly storage: string;
  readonly pid: number | undefined;
  /** How the last process ended (null while running or before the first stop). */
  readonly lastExit: { code: number | null; signal: NodeJS.Signals | null } | null;
  /** Stops the process (SIGTERM, SIGKILL after 5 s) and removes a temp storage directory. */
  stop(): Promise<void>;
  /** Kills the process with a signal (SIGKILL by default) and waits for it to exit; keeps storage. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the process again on the same port and storage (stopping it first if running). */
  restart(): Promise<void>;
}

function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'quarry')
      return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the quarry repository root');
    dir = parent;
  }
}

export function emulatorEntryPoint(): string {
  const entry = path.join(repoRoot(), 'dist/apps/qdrant-emulator/src/main.js');
  if (!fs.existsSync(entry)) {
    throw new Error(`${entry} is missing: run \`npm run build\` before the integration tests`);
  }
  return entry;
}

const READY = /qdrant-emulator listening on (http:\/\/\S+)/;

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export async function spawnQdrantEmulator(
  options: SpawnQdrantOptions = {},
): Promise<SpawnedQdrant> {
  const entry = emulatorEntryPoint();
  const ownsStorage = options.storage === undefined;
  const storage = options.storage ?? fs.mkdtempSync(path.join(os.tmpdir(), 'quarry-qdrant-'));
  let port = options.port ?? 0;
  let url = '';
  let child: ChildProcess | null = null;
  let lastExit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const killOnExit = () => child?.kill('SIGKILL');

  const start = async (): Promise<void> => {
    const proc = spawn(process.execPath, [entry, '--port', String(port), '--storage', storage], {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    lastExit = null;
    proc.once('exit', (code, signal) => {
      lastExit = { code, signal };
    });
    process.once('exit', killOnExit);
    let stderr = '';
    proc.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    await new Promise<void>((resolve, reject) => {
      let stdout = '';
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(
          new Error(
            `qdrant emulator not ready after ${options.readyTimeoutMs ?? 20_000} ms: ${stderr}`,
          ),
        );
      }, options.readyTimeoutMs ?? 20_000);
      proc.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const match = READY.exec(stdout);
        if (match) {
          clearTimeout(timer);
          url = match[1];
          port = Number(new URL(url).port);
          resolve();
        }
      });
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(
          new Error(`qdrant emulator exited (${code ?? signal}) before it was ready: ${stderr}`),
        );
      });
    });
    proc.stdout?.resume();
  };

  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const proc = child;
    if (!proc) return;
    proc.kill(signal);
    if (!(await waitForExit(proc, 5_000))) {
      proc.kill('SIGKILL');
      await waitForExit(proc, 5_000);
    }
    process.removeListener('exit', killOnExit);
    child = null;
  };

  await start();
  return {
    get url() {
      return url;
    },
    get port() {
      return port;
    },
    storage,
    get pid() {
      return (child as ChildProcess | null)?.pid;
    },
    get lastExit() {
      return lastExit;
    },
    kill,
    async stop() {
      await kill('SIGTERM');
      if (ownsStorage) fs.rmSync(storage, { recursive: true, force: true });
    },
    async restart() {
      await kill('SIGTERM');
      await start();
    },
  };
}

const HANDLE = '__quarryTestQdrant';
type GlobalWithHandle = typeof globalThis & { [HANDLE]?: SpawnedQdrant };

export async function startTestQdrant(): Promise<void> {
  if (process.env.QDRANT_URL) return;
  const emulator = await spawnQdrantEmulator();
  (globalThis as GlobalWithHandle)[HANDLE] = emulator;
  process.env.QDRANT_URL = emulator.url;
  process.env.QDRANT_EMULATED = 'true';
}

export async function stopTestQdrant(): Promise<void> {
  const g = globalThis as GlobalWithHandle;
  const emulator = g[HANDLE];
  if (!emulator) return;
  delete g[HANDLE];
  if (process.env.QDRANT_URL === emulator.url) delete process.env.QDRANT_URL;
  delete process.env.QDRANT_EMULATED;
  await emulator.stop();
}

/** True when the tests run against the emulator this setup started (not a real Qdrant). */
export function usingQdrantEmulator(): boolean {
  return process.env.QDRANT_EMULATED === 'true';
}
