export interface EmbedOptions {
  signal?: AbortSignal;
}

/** One embedding model. `embed` returns one vector of `dimension` numbers per input text. */
export interface Embedder {
  readonly model: string;
  readonly dimension: number;
  embed(texts: string[], opts?: EmbedOptions): Promise<Float32Array[] | number[][]>;
}

export type EmbeddingProvider = 'hashing' | 'openai';

export interface EmbedderOptions {
  /** `EMBEDDING_PROVIDER`; default `hashing`. */
  provider?: EmbeddingProvider;
  /** `EMBEDDING_MODEL`; default `hashing-v1` for hashing, required for openai. */
  model?: string;
  /** `EMBEDDING_DIM`; default 384. Must match the Qdrant collection. */
  dimension?: number;
  /** `EMBEDDING_BATCH_SIZE`; texts per request. Default 64. */
  batchSize?: number;
  /** `EMBEDDING_BASE_URL`, e.g. `https://api.openai.com` or `http://localhost:11434/v1`. */
  baseUrl?: string;
  /** `EMBEDDING_API_KEY`; sent as a Bearer token when set. */
  apiKey?: string;
  /** `EMBEDDING_TIMEOUT_MS`; per request. Default 30 s. */
  timeoutMs?: number;
  /** Attempts per batch on 429, 5xx and network errors before giving up. Default 5. */
  maxAttempts?: number;
  /** Backoff cap between attempts. Default 10 s. */
  maxBackoffMs?: number;
}

export const DEFAULT_EMBEDDING_DIM = 384;
export const DEFAULT_EMBEDDING_BATCH_SIZE = 64;
