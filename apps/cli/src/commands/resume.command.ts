import { QueueControlService, parseQueueNames } from '@quarry/documents';
import { Command, CommandRunner, Option } from 'nest-commander';
import { CliOutput } from '../cli-output';

interface JsonOption {
  json?: boolean;
}

@Command({
  name: 'resume',
  aliases: ['unpause'],
  arguments: '[queue]',
  description: 'resume a paused queue (ingest, cleanup, maintenance) or all',
})
export class ResumeCommand extends CommandRunner {
  constructor(
    private readonly queues: QueueControlService,
    private readonly out: CliOutput,
  ) {
    super();
  }

  async run([queue]: string[], _options: JsonOption): Promise<void> {
    const names = parseQueueNames(queue);
    const resumed = await this.queues.resume(names);
    this.out.result({ queues: names, resumed }, () =>
      names.map((n) => `${n}: ${resumed.includes(n) ? 'resumed' : 'was not paused'}`).join('\n'),
    );
  }

  @Option({ flags: '--json', description: 'machine-readable output' })
  parseJson(): boolean {
    this.out.json = true;
    return true;
  }
}
