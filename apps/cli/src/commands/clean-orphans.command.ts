import { OrphanCleanerService } from '@quarry/documents';
import { Command, CommandRunner, Option } from 'nest-commander';
import { CliOutput } from '../cli-output';

interface CleanOrphansOptions {
  dryRun?: boolean;
  json?: boolean;
}

@Command({
  name: 'clean-orphans',
  description: 'delete Qdrant points that belong to no current chunk; --dry-run only counts them',
})
export class CleanOrphansCommand extends CommandRunner {
  constructor(
    private readonly cleaner: OrphanCleanerService,
    private readonly out: CliOutput,
  ) {
    super();
  }

  async run(_args: string[], options: CleanOrphansOptions): Promise<void> {
    const report = await this.cleaner.clean({ dryRun: options.dryRun });
    this.out.result(report, () => {
      const head = `${report.pointsScanned} point(s) scanned, ${report.orphans} orphan(s)`;
      if (report.orphans === 0) return `${head}: nothing to clean`;
      const examples = `\n  ${report.examples.join('\n  ')}`;
      return report.dryRun
        ? `${head} would be deleted (dry run):${examples}`
        : `${head}, ${report.deleted} deleted:${examples}`;
    });
  }

  @Option({ flags: '--dry-run', description: 'count the orphans, delete nothing' })
  parseDryRun(): boolean {
    return true;
  }

  @Option({ flags: '--json', description: 'machine-readable output' })
  parseJson(): boolean {
    this.out.json = true;
    return true;
  }
}
