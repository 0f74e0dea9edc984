import { BackupService, IntegrityReport, IntegrityService } from '@quarry/documents';
import { Command, CommandRunner, Option } from 'nest-commander';
import { CliOutput } from '../cli-output';
import { ProgressDisplay } from '../progress/progress-display';
import { renderTable } from '../progress/table';

interface RestoreOptions {
  force?: boolean;
  json?: boolean;
}

@Command({
  name: 'restore',
  arguments: '<dir>',
  description:
    'restore a backup directory: verify checksums, pg_restore, recover the Qdrant snapshot (or reindex), then check-data',
})
export class RestoreCommand extends CommandRunner {
  constructor(
    private readonly backups: BackupService,
    private readonly integrity: IntegrityService,
    private readonly out: CliOutput,
  ) {
    super();
  }

  async run([dir]: string[], options: RestoreOptions): Promise<void> {
    let reindex: ProgressDisplay | undefined;
    const report = await this.backups.restore(dir, {
      force: options.force,
      onStep: (step) => this.out.info(`${step}…`),
      onReindex: ({ totalChunks, doneChunks, rate }) => {
        if (!reindex) {
          reindex = new ProgressDisplay(this.out, 'reindex', 'chunks');
          reindex.start(totalChunks, doneChunks);
        }
        reindex.update(doneChunks, { rate });
      },
    });
    reindex?.stop();
    const check = await this.integrity.check({ fix: false });
    this.out.result({ restore: report, checkData: check }, () =>
      [
        `restored ${report.directory} into ${report.database} (points from the ${report.vectors}${report.snapshotError ? `: ${report.snapshotError}` : ''}); ${report.requeued} pending document(s) enqueued`,
        renderTable(
          ['table', 'restored', 'in the backup'],
          [
            ...Object.entries(report.counts).map(([table, n]) => [
              table,
              n,
              report.expectedCounts[table as keyof typeof report.expectedCounts],
            ]),
            ['qdrant points', report.points, report.expectedPoints],
          ],
        ),
        describeCheck(check),
      ].join('\n'),
    );
    process.exitCode = check.overall === 'healthy' ? 0 : check.overall === 'warning' ? 1 : 2;
  }

  @Option({ flags: '--force', description: 'restore over a database that holds data' })
  parseForce(): boolean {
    return true;
  }

  @Option({ flags: '--json', description: 'machine-readable output' })
  parseJson(): boolean {
    this.out.json = true;
    return true;
  }
}

function describeCheck(report: IntegrityReport): string {
  const mark = { healthy: '✅ healthy', warning: '⚠️ warning', critical: '❌ critical' };
  const found = report.findings.filter((f) => f.count > 0);
  return [
    `check-data: ${mark[report.overall]}`,
    ...found.map(
      (f) => `  ${f.severity === 'critical' ? '❌' : '⚠️'} ${f.kind}: ${f.count} — ${f.message}`,
    ),
    ...(found.length > 0 ? ['run check-data --fix to repair what it can'] : []),
  ].join('\n');
}
