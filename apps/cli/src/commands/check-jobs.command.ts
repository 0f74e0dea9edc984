import { QueueControlService } from '@quarry/documents';
import { Command, CommandRunner, Option } from 'nest-commander';
import { CliOutput } from '../cli-output';
import { formatAge } from '../progress/duration';
import { renderTable } from '../progress/table';

@Command({
  name: 'check-jobs',
  description:
    'per queue: waiting, active, delayed, failed, paused and the oldest waiting age; documents per status',
})
export class CheckJobsCommand extends CommandRunner {
  constructor(
    private readonly queues: QueueControlService,
    private readonly out: CliOutput,
  ) {
    super();
  }

  async run(): Promise<void> {
    const report = await this.queues.checkJobs();
    this.out.result(report, () =>
      [
        renderTable(
          ['queue', 'waiting', 'active', 'delayed', 'failed', 'paused', 'oldest waiting'],
          report.queues.map((q) => [
            q.name,
            q.waiting + q.prioritized,
            q.active,
            q.delayed,
            q.failed,
            q.paused ? 'yes' : 'no',
            formatAge(q.oldestWaitingAgeMs),
          ]),
        ),
        renderTable(
          ['document status', 'count'],
          Object.entries(report.documents).map(([status, count]) => [status, count]),
        ),
      ].join('\n'),
    );
  }

  @Option({ flags: '--json', description: 'machine-readable output' })
  parseJson(): boolean {
    this.out.json = true;
    return true;
  }
}
