/** Base of every error the vector gateway throws on purpose. */
export abstract class VectorStoreError extends Error {
  constructor(
    message: string,
    /** the gateway operation, e.g. `upsert`, `query` — also the metrics label */
    readonly operation: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * Qdrant could not be reached or answered 5xx, even after retries (or the gateway is
 * closed for shutdown). Transient by nature: the api maps it to 503, a job retries it.
 */
export class VectorStoreUnavailableError extends VectorStoreError {
  constructor(
    operation: string,
    readonly attempts: number,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Qdrant is unavailable (${operation}, ${attempts} attempt${attempts === 1 ? '' : 's'}): ${reason}`,
      operation,
      options,
    );
  }
}

/**
 * Qdrant refused the request (4xx). Retrying the same request cannot help; the message
 * carries Qdrant's own explanation, e.g. a vector dimension error.
 */
export class VectorStoreRequestError extends VectorStoreError {
  constructor(
    operation: string,
    readonly statusCode: number,
    readonly qdrantMessage: string,
    options?: { cause?: unknown },
  ) {
    super(`Qdrant rejected ${operation} (${statusCode}): ${qdrantMessage}`, operation, options);
  }
}

export interface VectorCollectionShape {
  dimension: number | null;
  distance: string | null;
  /** true when the collection uses named vectors, which Quarry never creates */
  namedVectors?: boolean;
}

/**
 * The configured collection exists with vectors Quarry cannot use. Raised by bootstrap so
 * that start-up stops with a message an operator can act on, instead of every upsert
 * failing later with a dimension error.
 */
export class VectorCollectionMismatchError extends Error {
  constructor(
    readonly collection: string,
    readonly expected: { dimension: number; distance: string },
    readonly found: VectorCollectionShape,
  ) {
    super(describeMismatch(collection, expected, found));
    this.name = 'VectorCollectionMismatchError';
  }
}

function describeMismatch(
  collection: string,
  expected: { dimension: number; distance: string },
  found: VectorCollectionShape,
): string {
  const foundText = found.namedVectors
    ? 'named vectors (not a single unnamed vector)'
    : `dimension ${found.dimension ?? 'unknown'} with ${found.distance ?? 'unknown'} distance`;
  const head =
    `Qdrant collection "${collection}" has ${foundText}, but this deployment expects ` +
    `dimension ${expected.dimension} with ${expected.distance} distance (EMBEDDING_DIM=${expected.dimension}).`;
  const sameDistance = !found.namedVectors && found.distance === expected.distance;
  const fixDimension =
    sameDistance && found.dimension !== null
      ? ` Either set EMBEDDING_DIM=${found.dimension} (with an embedding model that produces ${found.dimension}-dimensional vectors), or`
      : '';
  return (
    `${head}${fixDimension} ${fixDimension ? 'set' : 'Set'} QDRANT_COLLECTION to a new collection name and reindex ` +
    `into it (quarry reindex), or drop "${collection}" (quarry reset-hard) if its vectors can be rebuilt.`
  );
}

/**
 * The existing collection was created with other cluster or storage settings than this
 * deployment asks for. Reported at start-up rather than ignored: the settings would
 * otherwise look applied while they are not.
 */
export class VectorCollectionSettingsMismatchError extends Error {
  constructor(
    readonly collection: string,
    readonly mismatches: string[],
  ) {
    super(
      `Qdrant collection "${collection}" does not have the configured settings: ` +
        `${mismatches.join('; ')}. Align the settings with the collection, or change the ` +
        `collection (PATCH /collections/${collection} for replication, on-disk, HNSW and ` +
        `quantisation; a new shard number needs the collection dropped, then \`quarry reindex\`).`,
    );
    this.name = 'VectorCollectionSettingsMismatchError';
  }
}
