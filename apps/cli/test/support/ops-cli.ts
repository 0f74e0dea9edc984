import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../../../..');
export const CLI_ENTRY = path.join(ROOT, 'dist/apps/cli/src/main.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the compiled cli as an operator would (build first), with only the environment
 * given, and kills it if it outlives `timeoutMs`.
 */
export function runCli(
  args: string[],
  env: Record<string, string>,
  { timeoutMs = 60_000, cwd = ROOT }: { timeoutMs?: number; cwd?: string } = {},
): Promise<CliRun> {
  if (!fs.existsSync(CLI_ENTRY)) throw new Error(`${CLI_ENTRY} missing: npm run build first`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_ENTRY, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`quarry ${args.join(' ')} still running after ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Parses the one JSON document a `--json` run prints, with its output in the error. */
export function jsonOf<T>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
}
