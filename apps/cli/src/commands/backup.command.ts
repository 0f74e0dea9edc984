import { BackupService } from '@quarry/documents';
import { Command, CommandRunner, Option } from 'nest-commander';
import * as path from 'node:path';
import { CliOutput } from '../cli-output';
import { parseDuration } from '../progress/duration';
import { ProgressDisplay } from '../progress/progress-display';
import { renderTable } from '../progress/table';

interface BackupOptions {
  out?: string;
  grace?: number;
  json?: boolean;
}

export function defaultBackupDir(): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return path.resolve('backups', `quarry-${stamp}`);
}

@Command({
  name: 'backup',
  description:
    'a consistent backup: pause ingestion, wait for active jobs, pg_dump + Qdrant snapshot + manifest, resume',
})
export class BackupCommand extends CommandRunner {
  constructor(
    private readonly backups: BackupService,
    private readonly out: CliOutput,
  ) {
    super();
  }

  async run(_args: string[], options: BackupOptions): Promise<void> {
    const dir = path.resolve(options.out ?? defaultBackupDir());
    let drain: ProgressDisplay | undefined;
    let initial = -1;
    const manifest = await this.backups.backup(dir, {
      graceMs: options.grace,
      onStep: (step) => {
        drain?.stop();
        this.out.info(`${step}…`);
      },
      onDrain: ({ active }) => {
        if (initial < 0) {
          initial = active;
          if (active === 0) return;
          drain = new ProgressDisplay(this.out, 'waiting for active jobs', 'jobs done');
          drain.start(active);
        }
        drain?.update(Math.max(0, initial - active));
      },
    });
    drain?.stop();
    this.out.result({ directory: dir, manifest }, () =>
      [
        `backup written to ${dir}`,
        renderTable(
          ['file', 'bytes', 'sha256'],
          manifest.files.map((f) => [f.name, f.bytes, f.sha256]),
        ),
        renderTable(
          ['table', 'rows'],
          [...Object.entries(manifest.counts), ['qdrant points', manifest.vector.points]],
        ),
      ].join('\n'),
    );
  }

  @Option({
    flags: '--out <dir>',
    description: 'directory to write (default backups/quarry-<time>)',
  })
  parseOut(value: string): string {
    return value;
  }

  @Option({ flags: '--grace <duration>', description: 'wait for active jobs up to (default 30s)' })
  parseGrace(value: string): number {
    return parseDuration(value);
  }

  @Option({ flags: '--json', description: 'machine-readable output' })
  parseJson(): boolean {
    this.out.json = true;
    return true;
  }
}
