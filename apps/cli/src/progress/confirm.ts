import { createInterface } from 'node:readline/promises';

export interface ConfirmOptions {
  action: string;
  database: string;
  yes?: boolean;
  forceProduction?: boolean;
  isProduction: boolean;
}

/**
 * The guard in front of every destructive command: refused in production unless
 * --force-production, and confirmed either by --yes or by typing the database's name on
 * a terminal. Without a terminal and without --yes it refuses instead of guessing.
 */
export async function confirmDestructive(options: ConfirmOptions): Promise<void> {
  if (options.isProduction && !options.forceProduction) {
    throw new Error(
      `${options.action} refused: NODE_ENV=production (add --force-production if you really mean it)`,
    );
  }
  if (options.yes) return;
  if (!process.stdin.isTTY) {
    throw new Error(
      `${options.action} needs confirmation: pass --yes, or run it on a terminal and type the database name`,
    );
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(
      `${options.action} removes data from database "${options.database}". Type its name to continue: `,
    );
    if (answer.trim() !== options.database) {
      throw new Error(
        `${options.action} cancelled: "${answer.trim()}" is not "${options.database}"`,
      );
    }
  } finally {
    rl.close();
  }
}
