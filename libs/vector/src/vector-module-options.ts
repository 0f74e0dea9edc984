export interface VectorRetryOptions {
  /** total attempts per call, including the first (default 3) */
  attempts: number;
  /** first back-off delay; doubles per attempt (default 100 ms) */
  baseDelayMs: number;
  /** cap for one back-off delay (default 1 s) */
  maxDelayMs: number;
}

export interface VectorModuleOptions {
  /** QDRANT_URL, e.g. http://qdrant:6333 */
  url: string;
  /** QDRANT_API_KEY */
  apiKey?: string;
  /** QDRANT_COLLECTION */
  collection: string;
  /** EMBEDDING_DIM: the size of every vector in the collection */
  dimension: number;
  /** per-request timeout; a request that takes longer counts as unavailable and is retried */
  timeoutMs: number;
  /** create or check the collection at start-up (default true) */
  bootstrap?: boolean;
  /** hard timeout of the readiness check (default 1000 ms) */
  healthTimeoutMs?: number;
  /** timeout of calls that work on the whole collection: snapshot create, download and upload, payload index builds (default 10 min) */
  snapshotTimeoutMs?: number;
  retry?: Partial<VectorRetryOptions>;
}

export const VECTOR_MODULE_OPTIONS = Symbol('VECTOR_MODULE_OPTIONS');

export const DEFAULT_RETRY: VectorRetryOptions = {
  attempts: 3,
  baseDelayMs: 100,
  maxDelayMs: 1_000,
};
