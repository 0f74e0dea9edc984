import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '../../../..');

/** A compiled entry point under dist/; the integration tier runs after `npm run build`. */
export function compiled(relative: string): string {
  const file = path.join(REPO_ROOT, 'dist', relative);
  if (!fs.existsSync(file)) {
    throw new Error(`${file} is missing: run \`npm run build\` before the integration tests`);
  }
  return file;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** when the process exited (Date.now()) */
  at: number;
}

/**
 * A Node process the test owns: output captured, exit observed, and killed for sure
 * (stop()) so that no test leaves a process behind.
 */
export class NodeProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<Exit>;
  readonly startedAt = Date.now();
  private readonly child: ChildProcess;

  constructor(script: string, args: string[], env: Record<string, string>) {
    this.child = spawn(process.execPath, [script, ...args], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    this.child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() }));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Resolves with the first match of `pattern` on stdout, or rejects on exit or timeout. */
  waitForOutput(pattern: RegExp, timeoutMs = 20_000): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const match = pattern.exec(this.stdout);
        if (!match) return false;
        cleanup();
        resolve(match);
        return true;
      };
      const onExit = () =>
        setImmediate(() => {
          if (check()) return;
          cleanup();
          reject(new Error(`process exited before printing ${pattern}: ${this.stderr}`));
        });
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no ${pattern} within ${timeoutMs} ms: ${this.stderr}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.child.stdout?.off('data', check);
        this.child.off('exit', onExit);
      };
      if (check()) return;
      this.child.stdout?.on('data', check);
      this.child.once('exit', onExit);
    });
  }

  /** The exit, or null if the process is still running after timeoutMs. */
  async waitForExit(timeoutMs: number): Promise<Exit | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends the process if it still runs (SIGKILL) and waits for it. */
  async stop(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }
}
