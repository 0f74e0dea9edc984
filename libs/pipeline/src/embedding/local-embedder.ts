import { EmbeddingDimensionMismatchError } from '../pipeline-errors';
import type { EmbedOptions, Embedder, EmbedderOptions } from './embedder';
import { DEFAULT_EMBEDDING_BATCH_SIZE } from './embedder';
import { embeddingProfile, type EmbeddingProfile } from './embedding-profile';
import { EmbeddingThreadPool } from './embedding-thread-pool';
import type { InferenceSettings } from './local-inference';
import { readLocalModelFolder, type LocalModelFolder } from './local-model-folder';

export type LocalEmbedderOptions = Pick<
  EmbedderOptions,
  | 'modelPath'
  | 'model'
  | 'dimension'
  | 'batchSize'
  | 'threads'
  | 'pooling'
  | 'queryPrefix'
  | 'passagePrefix'
  | 'maxTokens'
  | 'fusion'
>;

/** A text longer than this many windows is cut: it bounds the cost of one hostile chunk. */
export const MAX_WINDOWS_PER_TEXT = 16;

/**
 * In-process inference of a transformer encoder exported to ONNX, read from a model
 * folder in Hugging Face layout; nothing is fetched. The constructor checks the folder
 * and the dimension; `ready()` starts the threads and loads the model in each, so a
 * model that cannot run stops start-up rather than the first job.
 */
export class LocalEmbedder implements Embedder {
  readonly model: string;
  readonly dimension: number;
  readonly profile: EmbeddingProfile;
  readonly folder: LocalModelFolder;
  readonly threads: number;
  readonly batchSize: number;
  readonly maxTokens: number;
  private pool?: Promise<EmbeddingThreadPool>;

  constructor(options: LocalEmbedderOptions) {
    this.folder = readLocalModelFolder(options.modelPath);
    this.dimension = options.dimension ?? this.folder.hiddenSize;
    if (this.dimension !== this.folder.hiddenSize) {
      throw new EmbeddingDimensionMismatchError(
        `The model in ${this.folder.path} produces ${this.folder.hiddenSize}-dimensional vectors but EMBEDDING_DIM is ${this.dimension}: set EMBEDDING_DIM=${this.folder.hiddenSize} (with a Qdrant collection of that size) or use a model of ${this.dimension} dimensions`,
      );
    }
    this.model = options.model ?? this.folder.name;
    this.threads = options.threads ?? 1;
    this.batchSize = options.batchSize ?? DEFAULT_EMBEDDING_BATCH_SIZE;
    this.maxTokens = options.maxTokens ?? this.folder.maxTokens;
    for (const [name, value] of [
      ['EMBEDDING_THREADS', this.threads],
      ['EMBEDDING_BATCH_SIZE', this.batchSize],
    ] as const) {
      if (!Number.isInteger(value) || value < 1) {
        throw new RangeError(`${name} must be a positive integer (got ${value})`);
      }
    }
    this.profile = embeddingProfile({
      provider: 'local',
      model: this.model,
      dimension: this.dimension,
      folderPooling: this.folder.pooling,
      pooling: options.pooling,
      queryPrefix: options.queryPrefix,
      passagePrefix: options.passagePrefix,
      fusion: options.fusion,
    });
  }

  /** Starts the threads once; rejects with the model's problem in one line. */
  async ready(): Promise<void> {
    this.pool ??= EmbeddingThreadPool.start(this.settings(), this.threads);
    try {
      await this.pool;
    } catch (err) {
      this.pool = undefined;
      throw err;
    }
  }

  async embed(texts: string[], opts: EmbedOptions = {}): Promise<Float32Array[]> {
    opts.signal?.throwIfAborted();
    await this.ready();
    const pool = await this.pool!;
    const kind = opts.kind ?? 'passage';
    const batches: Promise<Float32Array[]>[] = [];
    for (let i = 0; i < texts.length; i += this.batchSize) {
      batches.push(pool.run(texts.slice(i, i + this.batchSize), kind));
    }
    const vectors = (await abortable(Promise.all(batches), opts.signal)).flat();
    return vectors;
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (pool) await (await pool.catch(() => undefined))?.close();
  }

  private settings(): InferenceSettings {
    return {
      modelFile: this.folder.modelFile,
      tokenizerJson: this.folder.tokenizerJson,
      tokenizerConfig: this.folder.tokenizerConfig,
      dimension: this.dimension,
      pooling: this.profile.pooling,
      normalize: this.profile.normalize,
      queryPrefix: this.profile.queryPrefix,
      passagePrefix: this.profile.passagePrefix,
      maxTokens: this.maxTokens,
      maxWindows: MAX_WINDOWS_PER_TEXT,
    };
  }
}

/** The caller stops waiting on abort; batches already in a thread finish there unseen. */
function abortable<T>(work: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return work;
  // It may have been aborted while the threads were starting.
  if (signal.aborted) {
    work.catch(() => undefined); // its batches still finish (or fail) unseen
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
