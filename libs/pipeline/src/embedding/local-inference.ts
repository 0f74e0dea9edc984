// Runs inside an embedding thread. The thread hands in the two packages (so this file
// has only type imports) and Node loads this file as it is, also from TypeScript source,
// which is why it uses only erasable syntax: no parameter properties, enums or runtime
// relative imports.
import type * as Ort from 'onnxruntime-node';
import type { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import type { EmbeddingKind } from './embedder';
import type { EmbeddingPooling } from './embedding-profile';

export interface InferenceSettings {
  modelFile: string;
  tokenizerJson: object;
  tokenizerConfig: object;
  dimension: number;
  pooling: EmbeddingPooling;
  normalize: boolean;
  queryPrefix: string;
  passagePrefix: string;
  /** the model's window, special tokens included */
  maxTokens: number;
  /** a text longer than this many windows is cut after the last one */
  maxWindows: number;
}

export interface InferenceLibraries {
  ort: typeof Ort;
  Tokenizer: typeof HfTokenizer;
}

/** A failure the main thread turns into a typed pipeline error, keyed by `name`. */
export class InferenceError extends Error {
  constructor(name: 'EmbeddingModelError' | 'EmbeddingDimensionMismatchError', message: string) {
    super(message);
    this.name = name;
  }
}

/**
 * Tokenises, runs the ONNX session and pools, one batch at a time. Texts longer than the
 * window are split into windows (each with the prefix and the special tokens), the
 * windows are embedded like texts of their own and averaged, weighted by their token
 * counts: a chunk keeps all of its content instead of losing its tail.
 */
export class LocalInference {
  readonly settings: InferenceSettings;
  private readonly ort: typeof Ort;
  private readonly session: Ort.InferenceSession;
  private readonly windows: TokenWindows;
  private readonly output: string;
  private readonly feedsTypeIds: boolean;

  private constructor(
    settings: InferenceSettings,
    ort: typeof Ort,
    session: Ort.InferenceSession,
    windows: TokenWindows,
  ) {
    this.settings = settings;
    this.ort = ort;
    this.session = session;
    this.windows = windows;
    const names = session.outputNames;
    this.output = names.includes('last_hidden_state') ? 'last_hidden_state' : names[0];
    this.feedsTypeIds = session.inputNames.includes('token_type_ids');
  }

  static async open(
    settings: InferenceSettings,
    libs: InferenceLibraries,
  ): Promise<LocalInference> {
    let tokenizer: HfTokenizer;
    try {
      tokenizer = new libs.Tokenizer(settings.tokenizerJson, settings.tokenizerConfig);
    } catch (err) {
      throw new InferenceError(
        'EmbeddingModelError',
        `tokenizer.json cannot be used (${messageOf(err)}): download the model's tokenizer.json again`,
      );
    }
    let session: Ort.InferenceSession;
    try {
      session = await libs.ort.InferenceSession.create(settings.modelFile, {
        // Parallelism comes from the thread pool: one core per session.
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
    } catch (err) {
      throw new InferenceError(
        'EmbeddingModelError',
        `${settings.modelFile} is not an ONNX model this runtime can load (${messageOf(err).split('\n')[0]}): download the model's onnx/ folder again`,
      );
    }
    if (
      !session.inputNames.includes('input_ids') ||
      !session.inputNames.includes('attention_mask')
    ) {
      throw new InferenceError(
        'EmbeddingModelError',
        `${settings.modelFile} takes [${session.inputNames.join(', ')}], not input_ids and attention_mask: use a transformer encoder exported for feature extraction`,
      );
    }
    const inference = new LocalInference(
      settings,
      libs.ort,
      session,
      new TokenWindows(tokenizer, settings),
    );
    inference.checkDimension();
    return inference;
  }

  async embed(texts: string[], kind: EmbeddingKind): Promise<Float32Array[]> {
    const perText = texts.map((t) => this.windows.of(t, kind));
    const flat = perText.flat();
    const pooled = await this.run(flat);
    const out: Float32Array[] = [];
    let w = 0;
    for (const windows of perText) {
      const parts = pooled.slice(w, w + windows.length);
      w += windows.length;
      out.push(
        combineWindows(
          parts,
          windows.map((ids) => ids.length),
          this.settings.normalize,
        ),
      );
    }
    return out;
  }

  async close(): Promise<void> {
    await this.session.release();
  }

  /** One session run over `windows` padded to the longest; one pooled vector each. */
  private async run(windows: number[][]): Promise<Float32Array[]> {
    const rows = windows.length;
    const width = windows.reduce((m, ids) => Math.max(m, ids.length), 0);
    const ids = new BigInt64Array(rows * width);
    const mask = new BigInt64Array(rows * width);
    windows.forEach((row, r) => {
      for (let i = 0; i < row.length; i++) {
        ids[r * width + i] = BigInt(row[i]);
        mask[r * width + i] = 1n;
      }
    });
    const { Tensor } = this.ort;
    const feeds: Record<string, Ort.Tensor> = {
      input_ids: new Tensor('int64', ids, [rows, width]),
      attention_mask: new Tensor('int64', mask, [rows, width]),
    };
    if (this.feedsTypeIds) {
      feeds.token_type_ids = new Tensor('int64', new BigInt64Array(rows * width), [rows, width]);
    }
    const result = await this.session.run(feeds, [this.output]);
    const out = result[this.output];
    const data = out.data as Float32Array;
    const hidden = out.dims[out.dims.length - 1];
    if (hidden !== this.settings.dimension) {
      throw this.mismatch(hidden);
    }
    const lengths = windows.map((w) => w.length);
    // A rank-2 output is already one vector per row (a sentence-embedding export).
    if (out.dims.length === 2) {
      return lengths.map((_, r) => data.slice(r * hidden, (r + 1) * hidden));
    }
    return pool(data, lengths, width, hidden, this.settings.pooling);
  }

  private checkDimension(): void {
    const meta = this.session.outputMetadata.find((m) => m.name === this.output);
    const shape = meta && meta.isTensor ? meta.shape : [];
    const last = shape[shape.length - 1];
    if (typeof last === 'number' && last !== this.settings.dimension) throw this.mismatch(last);
  }

  private mismatch(hidden: number): InferenceError {
    return new InferenceError(
      'EmbeddingDimensionMismatchError',
      `The model ${this.settings.modelFile} produces ${hidden}-dimensional vectors but EMBEDDING_DIM is ${this.settings.dimension}: set EMBEDDING_DIM=${hidden} (with a Qdrant collection of that size) or use a model of ${this.settings.dimension} dimensions`,
    );
  }
}

/** Token ids of a text, cut into windows that fit the model. */
export class TokenWindows {
  private readonly tokenizer: HfTokenizer;
  private readonly head: number[];
  private readonly tail: number[];
  private readonly prefixIds: Record<EmbeddingKind, number[]>;
  private readonly prefixes: Record<EmbeddingKind, string>;
  private readonly room: number;
  private readonly maxWindows: number;

  constructor(
    tokenizer: HfTokenizer,
    settings: Pick<InferenceSettings, 'maxTokens' | 'maxWindows' | 'queryPrefix' | 'passagePrefix'>,
  ) {
    this.tokenizer = tokenizer;
    // The special tokens the tokenizer wraps a sequence in ([CLS] … [SEP], <s> … </s>),
    // found by encoding a probe with and without them.
    const probe = tokenizer.encode('a', { add_special_tokens: false }).ids;
    const wrapped = tokenizer.encode('a', { add_special_tokens: true }).ids;
    const at = indexOfRun(wrapped, probe);
    this.head = at < 0 ? [] : wrapped.slice(0, at);
    this.tail = at < 0 ? [] : wrapped.slice(at + probe.length);
    this.prefixes = { query: settings.queryPrefix, passage: settings.passagePrefix };
    this.prefixIds = {
      query: this.plain(settings.queryPrefix),
      passage: this.plain(settings.passagePrefix),
    };
    this.room = settings.maxTokens - this.head.length - this.tail.length;
    this.maxWindows = settings.maxWindows;
    const longestPrefix = Math.max(this.prefixIds.query.length, this.prefixIds.passage.length);
    if (this.room <= longestPrefix) {
      throw new InferenceError(
        'EmbeddingModelError',
        `A window of ${settings.maxTokens} tokens leaves no room for text: raise EMBEDDING_MAX_TOKENS`,
      );
    }
  }

  /** The windows of `text`, each wrapped in the special tokens and starting with the prefix. */
  of(text: string, kind: EmbeddingKind): number[][] {
    const ids = this.plain(this.prefixes[kind] + text);
    if (ids.length <= this.room) return [[...this.head, ...ids, ...this.tail]];
    const prefix = this.prefixIds[kind];
    const windows: number[][] = [[...this.head, ...ids.slice(0, this.room), ...this.tail]];
    const step = this.room - prefix.length;
    for (let at = this.room; at < ids.length && windows.length < this.maxWindows; at += step) {
      windows.push([...this.head, ...prefix, ...ids.slice(at, at + step), ...this.tail]);
    }
    return windows;
  }

  private plain(text: string): number[] {
    return text ? this.tokenizer.encode(text, { add_special_tokens: false }).ids : [];
  }
}

/**
 * One vector per row of `data` ([rows, width, hidden], row-major): the mean of the
 * first `lengths[r]` token vectors (the unpadded ones), or the first token's (CLS).
 */
export function pool(
  data: Float32Array,
  lengths: number[],
  width: number,
  hidden: number,
  pooling: EmbeddingPooling,
): Float32Array[] {
  return lengths.map((length, r) => {
    const base = r * width * hidden;
    if (pooling === 'cls') return data.slice(base, base + hidden);
    const v = new Float32Array(hidden);
    for (let t = 0; t < length; t++) {
      const at = base + t * hidden;
      for (let h = 0; h < hidden; h++) v[h] += data[at + h];
    }
    const inv = length > 0 ? 1 / length : 0;
    for (let h = 0; h < hidden; h++) v[h] *= inv;
    return v;
  });
}

/** The windows of one text as one vector: their mean weighted by token count. */
export function combineWindows(
  parts: Float32Array[],
  weights: number[],
  normalize: boolean,
): Float32Array {
  let v: Float32Array;
  if (parts.length === 1) {
    v = parts[0];
  } else {
    v = new Float32Array(parts[0].length);
    const total = weights.reduce((s, w) => s + w, 0);
    parts.forEach((p, i) => {
      const w = weights[i] / total;
      for (let h = 0; h < v.length; h++) v[h] += p[h] * w;
    });
  }
  return normalize ? normalizeInPlace(v) : v;
}

/** L2 normalisation; a zero vector (nothing to say) stays zero. */
export function normalizeInPlace(v: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  if (sum === 0) return v;
  const inv = 1 / Math.sqrt(sum);
  for (let i = 0; i < v.length; i++) v[i] *= inv;
  return v;
}

function indexOfRun(haystack: number[], needle: number[]): number {
  for (let i = 0; i + needle.length <= haystack.length; i++) {
    if (needle.every((n, j) => haystack[i + j] === n)) return i;
  }
  return -1;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
