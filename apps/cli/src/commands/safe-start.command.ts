import { QueueControlService } from '@quarry/documents';
import { Command, CommandRunner, Option } from 'nest-commander';
import { CliOutput } from '../cli-output';
import { parseDuration } from '../progress/duration';
import { DEFAULT_STUCK_AGE } from './reset-stuck-jobs.command';

interface JsonOption {
  json?: boolean;
}

/**
 * The queue half of a restart after safe-stop; the Makefile starts the processes after
 * it (pid files on this machine, compose start with COMPOSE=1).
 */
@Command({
  name: 'safe-start',
  description:
    'reset jobs stuck for over an hour, resume the queues and enqueue pending documents again',
})
export class SafeStartCommand extends CommandRunner {
  constructor(
    private readonly queues: QueueControlService,
    private readonly out: CliOutput,
  ) {
    super();
  }

  async run(_args: string[], _options: JsonOption): Promise<void> {
    const stuck = await this.queues.resetStuck(parseDuration(DEFAULT_STUCK_AGE));
    const resumed = await this.queues.resume();
    const requeued = await this.queues.requeuePending();
    this.out.result({ stuckReset: stuck.reset.length, resumed, requeued }, () =>
      [
        `${stuck.reset.length} document(s) stuck for over ${DEFAULT_STUCK_AGE} reset`,
        `queues resumed (${resumed.length === 0 ? 'none was paused' : resumed.join(', ')})`,
        `${requeued.pending} pending document(s): ${requeued.enqueued} enqueued, ${requeued.alreadyQueued} already queued`,
      ].join('\n'),
    );
  }

  @Option({ flags: '--json', description: 'machine-readable output' })
  parseJson(): boolean {
    this.out.json = true;
    return true;
  }
}
