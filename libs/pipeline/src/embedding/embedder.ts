import type { EmbeddingPooling, EmbeddingProfile, FusionWeights } from './embedding-profile';

/** A search query or an indexed passage: models such as e5 embed them with different prefixes. */
export type EmbeddingKind = 'query' | 'passage';

export interface EmbedOptions {
  signal?: AbortSignal;
  /** default `passage` */
  kind?: EmbeddingKind;
}

/** One embedding model. `embed` returns one vector of `dimension` numbers per input text. */
export interface Embedder {
  readonly model: string;
  readonly dimension: number;
  /** what decides its vectors and how hybrid search weighs them */
  readonly profile: EmbeddingProfile;
  embed(texts: string[], opts?: EmbedOptions): Promise<Float32Array[] | number[][]>;
  /** loads what the embedder needs before the first text (threads, a model); optional */
  ready?(): Promise<void>;
  /** releases threads or sessions; optional for embedders that hold none */
  close?(): Promise<void>;
}

export type EmbeddingProvider = 'hashing' | 'openai' | 'local';

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
  /** `EMBEDDING_MODEL_PATH`: a model folder in Hugging Face layout (local only). */
  modelPath?: string;
  /** `EMBEDDING_THREADS`: inference threads (local only). Default 1. */
  threads?: number;
  /** `EMBEDDING_POOLING`: overrides the model's pooling (local only). */
  pooling?: EmbeddingPooling;
  /** `EMBEDDING_QUERY_PREFIX` / `EMBEDDING_PASSAGE_PREFIX`: override the model's prefixes. */
  queryPrefix?: string;
  passagePrefix?: string;
  /** `EMBEDDING_MAX_TOKENS`: overrides the model's window (local only). */
  maxTokens?: number;
  /** `SEARCH_SEMANTIC_WEIGHT` / `SEARCH_KEYWORD_WEIGHT`: override the profile's fusion. */
  fusion?: Partial<FusionWeights>;
}

export const DEFAULT_EMBEDDING_DIM = 384;
export const DEFAULT_EMBEDDING_BATCH_SIZE = 64;
