import { QuarryConfig } from '@quarry/config';
import { ResetMode, ResetReport, ResetService } from '@quarry/documents';
import { Command, CommandRunner, Option } from 'nest-commander';
import { CliOutput } from '../cli-output';
import { confirmDestructive } from '../progress/confirm';
import { renderTable } from '../progress/table';

export interface ResetOptions {
  yes?: boolean;
  forceProduction?: boolean;
  json?: boolean;
}

/** Shared by reset-soft and reset-hard: confirm, reset, print the counts removed. */
export abstract class ResetCommandBase extends CommandRunner {
  protected abstract readonly mode: ResetMode;

  constructor(
    protected readonly resets: ResetService,
    protected readonly config: QuarryConfig,
    protected readonly out: CliOutput,
  ) {
    super();
  }

  async run(_args: string[], options: ResetOptions): Promise<void> {
    await confirmDestructive({
      action: `reset-${this.mode}`,
      database: this.resets.databaseName,
      yes: options.yes,
      forceProduction: options.forceProduction,
      isProduction: this.config.isProduction,
    });
    const report = await this.resets.reset(this.mode);
    this.out.result(report, () => describeReset(report));
  }

  @Option({ flags: '-y, --yes', description: 'do not ask for the database name' })
  parseYes(): boolean {
    return true;
  }

  @Option({ flags: '--force-production', description: 'allow it with NODE_ENV=production' })
  parseForceProduction(): boolean {
    return true;
  }

  @Option({ flags: '--json', description: 'machine-readable output' })
  parseJson(): boolean {
    this.out.json = true;
    return true;
  }
}

function describeReset(report: ResetReport): string {
  const r = report.removed;
  const rows: [string, number | string][] = [
    ['documents', r.documents],
    ['document blobs', r.documentBlobs],
    ['chunks', r.chunks],
    ['points', r.points],
    ['jobs', r.jobs],
    ['cache entries', r.cacheEntries],
  ];
  if (report.mode === 'hard') {
    rows.push(
      ['collections', r.collections],
      ['api keys', r.apiKeys],
      ['qdrant collection', r.vectorCollection ? 'dropped and created empty' : 'created empty'],
    );
  }
  return `reset-${report.mode} of ${report.database}: removed\n${renderTable(['what', 'removed'], rows)}`;
}

@Command({
  name: 'reset-soft',
  description:
    'remove every document, blob, chunk, point, job and cache entry; keep collections and API keys',
})
export class ResetSoftCommand extends ResetCommandBase {
  protected readonly mode = 'soft';

  // Nest reads constructor types from the decorated class itself, not from an abstract base.
  constructor(resets: ResetService, config: QuarryConfig, out: CliOutput) {
    super(resets, config, out);
  }
}
