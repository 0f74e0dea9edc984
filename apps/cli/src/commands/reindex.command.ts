import { ReindexService } from '@quarry/documents';
import { Command, CommandRunner, Option } from 'nest-commander';
import { CliOutput } from '../cli-output';
import { ProgressDisplay } from '../progress/progress-display';

interface ReindexOptions {
  collection?: string;
  resume?: boolean;
  json?: boolean;
}

@Command({
  name: 'reindex',
  description:
    'rebuild the Qdrant points from the PostgreSQL chunks (re-embedding); idempotent, --resume continues an interrupted run',
})
export class ReindexCommand extends CommandRunner {
  constructor(
    private readonly reindexer: ReindexService,
    private readonly out: CliOutput,
  ) {
    super();
  }

  async run(_args: string[], options: ReindexOptions): Promise<void> {
    const progress = new ProgressDisplay(this.out, 'reindex', 'chunks');
    let started = false;
    try {
      const report = await this.reindexer.reindex({
        collectionId: options.collection,
        resume: options.resume,
        onProgress: ({ totalChunks, doneChunks, rate, documents }) => {
          if (!started) {
            started = true;
            progress.start(totalChunks, doneChunks);
            return;
          }
          progress.update(doneChunks, { rate, detail: `(${documents} documents)` });
        },
      });
      progress.stop();
      this.out.result(report, () =>
        [
          report.resumedAfter ? `resumed after document ${report.resumedAfter}` : '',
          `reindexed ${report.documents} document(s), ${report.chunks} chunk(s) in ${(report.durationMs / 1000).toFixed(1)}s (${report.rate.toFixed(1)} chunks/s)`,
        ]
          .filter(Boolean)
          .join('\n'),
      );
    } finally {
      progress.stop();
    }
  }

  @Option({ flags: '--collection <id>', description: 'only the documents of this collection' })
  parseCollection(value: string): string {
    return value;
  }

  @Option({ flags: '--resume', description: 'continue after the last finished document' })
  parseResume(): boolean {
    return true;
  }

  @Option({ flags: '--json', description: 'machine-readable output' })
  parseJson(): boolean {
    this.out.json = true;
    return true;
  }
}
