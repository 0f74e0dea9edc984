import { BackupService } from '@quarry/documents';
import { Command, CommandRunner, Option } from 'nest-commander';
import * as path from 'node:path';
import { CliOutput } from '../cli-output';

interface DbBackupOptions {
  json?: boolean;
}

@Command({
  name: 'db-backup',
  arguments: '[file]',
  description:
    'pg_dump (custom format) of the PostgreSQL database alone; default backups/<db>-<time>.dump',
})
export class DbBackupCommand extends CommandRunner {
  constructor(
    private readonly backups: BackupService,
    private readonly out: CliOutput,
  ) {
    super();
  }

  async run([file]: string[], _options: DbBackupOptions): Promise<void> {
    const target =
      file ??
      path.join(
        'backups',
        `${this.backups.databaseName}-${new Date().toISOString().replace(/[:.]/g, '-')}.dump`,
      );
    const written = await this.backups.dumpDatabase(target);
    this.out.result(
      written,
      () => `${written.path}: ${written.bytes} bytes, sha256 ${written.sha256}`,
    );
  }

  @Option({ flags: '--json', description: 'machine-readable output' })
  parseJson(): boolean {
    this.out.json = true;
    return true;
  }
}
