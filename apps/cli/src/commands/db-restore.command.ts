import { BackupService } from '@quarry/documents';
import { Command, CommandRunner, Option } from 'nest-commander';
import { CliOutput } from '../cli-output';
import { renderTable } from '../progress/table';

interface DbRestoreOptions {
  force?: boolean;
  json?: boolean;
}

@Command({
  name: 'db-restore',
  arguments: '<file>',
  description:
    'pg_restore a db-backup file into the PostgreSQL database; refuses a database with data unless --force',
})
export class DbRestoreCommand extends CommandRunner {
  constructor(
    private readonly backups: BackupService,
    private readonly out: CliOutput,
  ) {
    super();
  }

  async run([file]: string[], options: DbRestoreOptions): Promise<void> {
    const restored = await this.backups.restoreDatabase(file, { force: options.force });
    this.out.result(restored, () =>
      [
        `restored ${restored.file} into ${restored.database}; run check-data, then reindex if points are missing`,
        renderTable(['table', 'rows'], Object.entries(restored.counts)),
      ].join('\n'),
    );
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
