import { QuarryConfig } from '@quarry/config';
import { DataSource } from 'typeorm';
import { migrate, pendingMigrations } from '@quarry/db';
import { Command, CommandRunner, Option } from 'nest-commander';
import { CliOutput } from '../cli-output';

interface MigrateOptions {
  check?: boolean;
  json?: boolean;
}

@Command({
  name: 'migrate',
  description:
    'apply pending database migrations (under an advisory lock); --check only lists them',
})
export class MigrateCommand extends CommandRunner {
  constructor(
    private readonly dataSource: DataSource,
    private readonly config: QuarryConfig,
    private readonly out: CliOutput,
  ) {
    super();
  }

  async run(_args: string[], options: MigrateOptions): Promise<void> {
    const database = new URL(this.config.db.url).pathname.slice(1);
    if (options.check) {
      const pending = await pendingMigrations(this.dataSource);
      this.out.result({ database, pending }, () =>
        pending.length === 0
          ? `${database}: schema is current`
          : `${database}: ${pending.length} pending migration(s):\n  ${pending.join('\n  ')}`,
      );
      process.exitCode = pending.length === 0 ? 0 : 1;
      return;
    }
    const applied = await migrate(this.dataSource);
    this.out.result({ database, applied }, () =>
      applied.length === 0
        ? `${database}: schema is current, nothing to apply`
        : `${database}: applied ${applied.length} migration(s):\n  ${applied.join('\n  ')}`,
    );
  }

  @Option({ flags: '--check', description: 'list pending migrations and exit 1 if any' })
  parseCheck(): boolean {
    return true;
  }

  @Option({ flags: '--json', description: 'machine-readable output' })
  parseJson(): boolean {
    this.out.json = true;
    return true;
  }
}
