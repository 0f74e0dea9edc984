import { QueueControlService, STOPPED_DURING_PROCESSING } from '@quarry/documents';
import { Command, CommandRunner, Option } from 'nest-commander';
import { CliOutput } from '../cli-output';
import { parseDuration } from '../progress/duration';
import { cleanTemporaryFiles, runDir, stopProcesses } from '../progress/process-control';
import { ProgressDisplay } from '../progress/progress-display';

interface SafeStopOptions {
  grace?: number;
  processes?: boolean;
  json?: boolean;
}

@Command({
  name: 'safe-stop',
  description:
    'pause the queues, wait for active jobs (--grace, default 30s), hand back what still runs, clean temporary files, stop the processes',
})
export class SafeStopCommand extends CommandRunner {
  constructor(
    private readonly queues: QueueControlService,
    private readonly out: CliOutput,
  ) {
    super();
  }

  async run(_args: string[], options: SafeStopOptions): Promise<void> {
    const graceMs = options.grace ?? 30_000;
    const paused = await this.queues.pause();
    this.out.info(
      `queues paused (${paused.length === 0 ? 'all were already paused' : paused.join(', ')})`,
    );

    const initial = await this.queues.activeCount();
    const progress = new ProgressDisplay(this.out, 'waiting for active jobs', 'jobs done');
    progress.start(initial);
    const drain = await this.queues.waitForActive(graceMs, ({ active, elapsedMs }) =>
      progress.update(Math.max(0, initial - active), {
        detail: `(${Math.ceil((graceMs - elapsedMs) / 1000)}s of grace left)`,
      }),
    );
    progress.stop();
    this.out.info(
      drain.idle
        ? 'no job is active'
        : `${drain.active} job(s) still active after ${Math.round(graceMs / 1000)}s: handing their documents back`,
    );

    const handedBack = await this.queues.handBack(0, STOPPED_DURING_PROCESSING);
    if (handedBack.length > 0)
      this.out.info(`${handedBack.length} document(s) handed back to pending`);
    const cleaned = cleanTemporaryFiles();
    const stopped = options.processes === false ? [] : await stopProcesses(graceMs + 15_000);
    for (const p of stopped) this.out.info(`${p.name} (pid ${p.pid}): ${p.outcome}`);
    if (options.processes !== false && stopped.length === 0) {
      this.out.info(`no process pid files under ${runDir()}: nothing to stop here`);
    }
    this.out.result(
      {
        paused,
        drained: drain.idle,
        activeAtGraceEnd: drain.active,
        waitedMs: drain.waitedMs,
        handedBack,
        temporaryFilesRemoved: cleaned,
        stopped,
      },
      () => 'safe-stop done: run safe-start to continue',
    );
  }

  @Option({
    flags: '--grace <duration>',
    description: 'how long to wait for active jobs (default 30s)',
  })
  parseGrace(value: string): number {
    return parseDuration(value);
  }

  @Option({
    flags: '--no-processes',
    description: 'leave the processes running (compose or a cluster stops them instead)',
  })
  parseNoProcesses(): boolean {
    return false;
  }

  @Option({ flags: '--json', description: 'machine-readable output' })
  parseJson(): boolean {
    this.out.json = true;
    return true;
  }
}
