import {
  EmbedderRejectedError,
  EmbedderUnavailableError,
  EmbeddingDimensionMismatchError,
} from '../pipeline-errors';
import type { EmbedOptions, Embedder } from './embedder';
import { DEFAULT_EMBEDDING_BATCH_SIZE, DEFAULT_EMBEDDING_DIM } from './embedder';
import { embeddingProfile, type EmbeddingProfile, type FusionWeights } from './embedding-profile';

export interface OpenAiEmbedderOptions {
  baseUrl: string;
  model: string;
  apiKey?: string;
  dimension?: number;
  batchSize?: number;
  timeoutMs?: number;
  maxAttempts?: number;
  /** First retry delay; doubles per attempt up to `maxBackoffMs`. */
  retryBaseMs?: number;
  maxBackoffMs?: number;
  /** override the prefixes the model family prescribes (e5 served by TEI needs them too) */
  queryPrefix?: string;
  passagePrefix?: string;
  fusion?: Partial<FusionWeights>;
}

interface EmbeddingResponse {
  data?: { index?: number; embedding?: unknown }[];
}

/**
 * Any OpenAI-compatible `POST /v1/embeddings` (OpenAI, Ollama, vLLM, Text Embeddings
 * Inference). Sends `batchSize` texts per request, one request at a time; retries 429,
 * 5xx, timeouts and network errors with capped exponential backoff, honouring
 * `Retry-After`; any other 4xx is permanent and reported with the server's message.
 */
export class OpenAiEmbedder implements Embedder {
  readonly model: string;
  readonly dimension: number;
  readonly url: string;
  readonly profile: EmbeddingProfile;
  private readonly apiKey?: string;
  private readonly batchSize: number;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly retryBaseMs: number;
  private readonly maxBackoffMs: number;

  constructor(options: OpenAiEmbedderOptions) {
    if (!options.baseUrl)
      throw new RangeError('EMBEDDING_BASE_URL is required for the openai embedder');
    if (!options.model) throw new RangeError('EMBEDDING_MODEL is required for the openai embedder');
    this.url = embeddingsUrl(options.baseUrl);
    this.model = options.model;
    this.apiKey = options.apiKey || undefined;
    this.dimension = options.dimension ?? DEFAULT_EMBEDDING_DIM;
    this.batchSize = options.batchSize ?? DEFAULT_EMBEDDING_BATCH_SIZE;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.retryBaseMs = options.retryBaseMs ?? 500;
    this.maxBackoffMs = options.maxBackoffMs ?? 10_000;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) {
      throw new RangeError(
        `EMBEDDING_BATCH_SIZE must be a positive integer (got ${this.batchSize})`,
      );
    }
    this.profile = embeddingProfile({
      provider: 'openai',
      model: this.model,
      dimension: this.dimension,
      queryPrefix: options.queryPrefix,
      passagePrefix: options.passagePrefix,
      fusion: options.fusion,
    });
  }

  async embed(texts: string[], opts: EmbedOptions = {}): Promise<number[][]> {
    const out: number[][] = [];
    const prefix = opts.kind === 'query' ? this.profile.queryPrefix : this.profile.passagePrefix;
    for (let i = 0; i < texts.length; i += this.batchSize) {
      const batch = texts.slice(i, i + this.batchSize).map((t) => prefix + t);
      out.push(...(await this.embedBatch(batch, opts.signal)));
    }
    return out;
  }

  private async embedBatch(input: string[], signal?: AbortSignal): Promise<number[][]> {
    let lastError: EmbedderUnavailableError | undefined;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      signal?.throwIfAborted();
      let res: Response;
      try {
        const timeout = AbortSignal.timeout(this.timeoutMs);
        res = await fetch(this.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}),
          },
          body: JSON.stringify({ model: this.model, input }),
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
      } catch (err) {
        signal?.throwIfAborted();
        // DOMException (the timeout) need not be an `instanceof Error` across realms.
        const timedOut = (err as { name?: unknown } | null)?.name === 'TimeoutError';
        lastError = new EmbedderUnavailableError(
          timedOut
            ? `The embedding service at ${this.url} did not answer within ${this.timeoutMs} ms`
            : `The embedding service at ${this.url} could not be reached: ${describe(err)}`,
          undefined,
          { cause: err },
        );
        await sleep(this.backoff(attempt), signal);
        continue;
      }
      if (res.ok) return this.parse(res, input.length);
      const message = await serverMessage(res);
      if (res.status === 429 || res.status >= 500) {
        lastError = new EmbedderUnavailableError(
          `The embedding service answered HTTP ${res.status}: ${message}`,
          res.status,
        );
        if (attempt < this.maxAttempts) {
          await sleep(
            retryAfterMs(res.headers.get('retry-after')) ?? this.backoff(attempt),
            signal,
          );
        }
        continue;
      }
      throw new EmbedderRejectedError(
        `The embedding service rejected the request (HTTP ${res.status}): ${message}`,
        res.status,
      );
    }
    throw lastError ?? new EmbedderUnavailableError('The embedding service could not be reached');
  }

  private async parse(res: Response, expected: number): Promise<number[][]> {
    let body: EmbeddingResponse;
    try {
      body = (await res.json()) as EmbeddingResponse;
    } catch (err) {
      throw new EmbedderUnavailableError(
        `The embedding service sent a body that is not JSON`,
        res.status,
        {
          cause: err,
        },
      );
    }
    const data = body.data;
    if (!Array.isArray(data) || data.length !== expected) {
      throw new EmbedderRejectedError(
        `The embedding service returned ${Array.isArray(data) ? data.length : 'no'} embeddings for ${expected} inputs`,
      );
    }
    const ordered = data.every((d) => typeof d.index === 'number')
      ? [...data].sort((a, b) => (a.index ?? 0) - (b.index ?? 0))
      : data;
    return ordered.map((d) => {
      const v = d.embedding;
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) {
        throw new EmbedderRejectedError(
          'The embedding service returned an embedding that is not a list of numbers',
        );
      }
      if (v.length !== this.dimension) {
        throw new EmbeddingDimensionMismatchError(
          `The model "${this.model}" returns ${v.length}-dimensional embeddings but EMBEDDING_DIM is ${this.dimension}. ` +
            `Set EMBEDDING_DIM=${v.length} (and use a Qdrant collection of that size) or choose another model.`,
        );
      }
      return v as number[];
    });
  }

  private backoff(attempt: number): number {
    const exp = Math.min(this.maxBackoffMs, this.retryBaseMs * 2 ** (attempt - 1));
    return Math.round(exp / 2 + (Math.random() * exp) / 2);
  }
}

/** `https://host` → `https://host/v1/embeddings`; a base already ending in `/v1` is kept. */
export function embeddingsUrl(baseUrl: string): string {
  const base = baseUrl.replace(/(?<!\/)\/+$/, '');
  if (/\/embeddings$/.test(base)) return base;
  return /\/v1$/.test(base) ? `${base}/embeddings` : `${base}/v1/embeddings`;
}

/** `Retry-After` as delta-seconds or an HTTP date, capped at a minute. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  let ms: number;
  if (/^\d+(?:\.\d+)?$/.test(trimmed)) {
    ms = Number(trimmed) * 1000;
  } else {
    const at = Date.parse(trimmed);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(Math.max(0, ms), 60_000);
}

async function serverMessage(res: Response): Promise<string> {
  let text: string;
  try {
    text = await res.text();
  } catch {
    return res.statusText || 'no details';
  }
  try {
    const json = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    if (typeof json.error === 'string') return json.error;
    if (json.error && typeof json.error.message === 'string') return json.error.message;
    if (typeof json.message === 'string') return json.message;
  } catch {
    // Not JSON: fall back to the raw text.
  }
  return text.trim().slice(0, 500) || res.statusText || 'no details';
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
  }
  return String(err);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
