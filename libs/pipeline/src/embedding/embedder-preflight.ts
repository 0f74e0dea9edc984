import { PipelineError } from '../pipeline-errors';
import type { EmbedderOptions } from './embedder';
import { LocalEmbedder } from './local-embedder';

/**
 * For an entry point, before the framework loads: a local model folder that is missing,
 * malformed or of the wrong dimension ends the process with one line on stderr that says
 * what to do, and exit code 78 (EX_CONFIG) like a bad setting.
 */
export function checkEmbedderOrExit(options: EmbedderOptions, processName: string): void {
  if (options.provider !== 'local') return;
  try {
    new LocalEmbedder(options);
  } catch (err) {
    if ((err instanceof PipelineError && err.permanent) || err instanceof RangeError) {
      process.stderr.write(`${processName} cannot start: ${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
}
