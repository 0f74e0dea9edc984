import type { VectorCollectionSettings, WriteOrdering } from './collection-settings';

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
  /** cluster and storage layout used when creating the collection, checked against an existing one */
  collectionSettings?: VectorCollectionSettings;
  /** QDRANT_WRITE_ORDERING, sent with every upsert and delete (default `medium`) */
  writeOrdering?: WriteOrdering;
  /** per-request timeout; a request that takes longer counts as unavailable and is retried */
  timeoutMs: number;
  /**
   * Create or check the collection at start-up.
   * - `true` (default): start-up fails unless the collection is usable.
   * - `'when-available'`: a mismatch still stops start-up, but an unreachable Qdrant does
   *   not (the api keeps accepting uploads); the check then repeats in the background
   *   and readiness reports a mismatch it finds later.
   * - `false`: no check (scripts that drop or restore the collection).
   */
  bootstrap?: boolean | 'when-available';
  /** pause between background bootstrap attempts in `'when-available'` mode (default 5 s) */
  bootstrapRetryMs?: number;
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
