import { HuggingFaceModels, readLocalModelFolder } from '@quarry/pipeline';
import { Command, CommandRunner, Option, SubCommand } from 'nest-commander';
import { resolve } from 'node:path';
import { CliOutput } from '../cli-output';
import { ProgressDisplay } from '../progress/progress-display';

/** The command's name on the command line: it needs no database, queue or Qdrant. */
export const MODELS_COMMAND = 'models';

interface PullOptions {
  quantized?: boolean;
  dir?: string;
  revision?: string;
  json?: boolean;
}

@SubCommand({
  name: 'pull',
  arguments: '<hugging-face-id>',
  description:
    'download an embedding model folder (config, tokenizer, ONNX export) for EMBEDDING_PROVIDER=local, checking every file',
})
export class ModelsPullCommand extends CommandRunner {
  constructor(private readonly out: CliOutput) {
    super();
  }

  async run([id]: string[], options: PullOptions): Promise<void> {
    const dir = resolve(options.dir ?? `models/${id.split('/').pop()}`);
    const hub = new HuggingFaceModels(
      process.env.HF_ENDPOINT || undefined,
      process.env.HF_TOKEN || undefined,
    );
    let shown: { file: string; bar: ProgressDisplay; started: number } | undefined;
    const pulled = await hub.pull(id, dir, {
      quantized: options.quantized,
      revision: options.revision,
      onProgress: ({ file, bytes, total }) => {
        if (shown?.file !== file) {
          shown?.bar.stop();
          shown = { file, bar: new ProgressDisplay(this.out, file, 'bytes'), started: Date.now() };
          shown.bar.start(total);
        }
        const seconds = (Date.now() - shown.started) / 1000;
        shown.bar.update(bytes, { rate: seconds > 0 ? bytes / seconds : 0 });
      },
    });
    shown?.bar.stop();
    const folder = readLocalModelFolder(dir);
    const settings = {
      EMBEDDING_PROVIDER: 'local',
      EMBEDDING_MODEL_PATH: dir,
      EMBEDDING_DIM: folder.hiddenSize,
    };
    this.out.result({ id, ...pulled, settings }, () =>
      [
        ...pulled.files.map(
          (f) =>
            `${f.skipped ? 'kept ' : 'fetched'} ${f.path} (${f.bytes} bytes, sha256 ${f.sha256.slice(0, 12)}…)`,
        ),
        `model folder ready: ${dir}`,
        `use it with: ${Object.entries(settings)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}`,
      ].join('\n'),
    );
  }

  @Option({
    flags: '--quantized',
    description: 'the int8-quantised ONNX export (smaller, faster on CPU)',
  })
  parseQuantized(): boolean {
    return true;
  }

  @Option({
    flags: '--dir <dir>',
    description: 'where to write the folder (default models/<name>)',
  })
  parseDir(value: string): string {
    return value;
  }

  @Option({ flags: '--revision <revision>', description: 'branch, tag or commit (default main)' })
  parseRevision(value: string): string {
    return value;
  }

  @Option({ flags: '--json', description: 'machine-readable output' })
  parseJson(): boolean {
    this.out.json = true;
    return true;
  }
}

@Command({
  name: MODELS_COMMAND,
  description: 'embedding models for EMBEDDING_PROVIDER=local',
  subCommands: [ModelsPullCommand],
})
export class ModelsCommand extends CommandRunner {
  async run(): Promise<void> {
    this.command.help();
  }
}
