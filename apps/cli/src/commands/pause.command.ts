import { QueueControlService, parseQueueNames } from '@quarry/documents';
import { Command, CommandRunner, Option } from 'nest-commander';
import { CliOutput } from '../cli-output';

interface JsonOption {
  json?: boolean;
}

@Command({
  name: 'pause',
  arguments: '[queue]',
  description:
    'pause a queue (ingest, cleanup, maintenance) or all: workers stop taking jobs, the api keeps accepting uploads',
})
export class PauseCommand extends CommandRunner {
  constructor(
    private readonly queues: QueueControlService,
    private readonly out: CliOutput,
  ) {
    super();
  }

  async run([queue]: string[], _options: JsonOption): Promise<void> {
    const names = parseQueueNames(queue);
    const paused = await this.queues.pause(names);
    this.out.result({ queues: names, paused }, () =>
      names.map((n) => `${n}: ${paused.includes(n) ? 'paused' : 'was already paused'}`).join('\n'),
    );
  }

  @Option({ flags: '--json', description: 'machine-readable output' })
  parseJson(): boolean {
    this.out.json = true;
    return true;
  }
}
