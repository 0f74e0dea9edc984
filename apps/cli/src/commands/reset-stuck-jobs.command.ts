import { QueueControlService } from '@quarry/documents';
import { Command, CommandRunner, Option } from 'nest-commander';
import { CliOutput } from '../cli-output';
import { formatAge, parseDuration } from '../progress/duration';

interface ResetStuckOptions {
  olderThan?: number;
  json?: boolean;
}

export const DEFAULT_STUCK_AGE = '1h';

@Command({
  name: 'reset-stuck-jobs',
  description:
    'return documents stuck in processing (no heartbeat for --older-than, default 1h) to pending and enqueue them again',
})
export class ResetStuckJobsCommand extends CommandRunner {
  constructor(
    private readonly queues: QueueControlService,
    private readonly out: CliOutput,
  ) {
    super();
  }

  async run(_args: string[], options: ResetStuckOptions): Promise<void> {
    const olderThanMs = options.olderThan ?? parseDuration(DEFAULT_STUCK_AGE);
    const result = await this.queues.resetStuck(olderThanMs);
    this.out.result(result, () =>
      result.reset.length === 0
        ? `no document stuck in processing for over ${formatAge(olderThanMs)}`
        : `reset ${result.reset.length} document(s) stuck for over ${formatAge(olderThanMs)} to pending, ${result.enqueued} enqueued:\n  ${result.reset.map((d) => d.id).join('\n  ')}`,
    );
  }

  @Option({
    flags: '--older-than <duration>',
    description: 'how long without a heartbeat counts as stuck (e.g. 30m, 1h; default 1h)',
  })
  parseOlderThan(value: string): number {
    return parseDuration(value);
  }

  @Option({ flags: '--json', description: 'machine-readable output' })
  parseJson(): boolean {
    this.out.json = true;
    return true;
  }
}
