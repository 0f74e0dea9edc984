/**
 * The payload of every point, as stored in Qdrant. Field names are snake_case because they
 * are persisted and indexed; renaming one is a reindex.
 */
export interface ChunkPayload {
  document_id: string;
  collection_id: string;
  owner_id: string;
  generation: number;
  ordinal: number;
}

/** One chunk's vector, ready to upsert. `id` is `pointIdFor(document_id, generation, ordinal)`. */
export interface ChunkPoint {
  id: string;
  vector: Float32Array | number[];
  payload: ChunkPayload;
}

/** A point read back without its vector (scroll, retrieve). */
export interface StoredPoint {
  id: string;
  payload: ChunkPayload;
}

/** A nearest point's id and score alone (no payload to transfer and parse). */
export interface ScoredPointId {
  id: string;
  score: number;
}

export interface VectorHit extends StoredPoint, ScoredPointId {}

export interface VectorQuery {
  vector: Float32Array | number[];
  /** required: the owner filter is a security boundary and is always applied */
  ownerId: string;
  /** restrict to these collections; an empty list matches nothing */
  collectionIds?: readonly string[];
  /** restrict to these documents; an empty list matches nothing */
  documentIds?: readonly string[];
  limit: number;
  offset?: number;
  /** cosine similarity lower bound */
  scoreThreshold?: number;
}

/** Payload conditions, all of which must hold. */
export interface PointFilter {
  documentId?: string;
  ownerId?: string;
  collectionId?: string;
  generation?: number;
  exceptGeneration?: number;
}

export interface VectorCollectionInfo {
  name: string;
  exists: boolean;
  dimension: number | null;
  distance: string | null;
  pointsCount: number;
  /** green, yellow, grey or red; null when the collection does not exist */
  status: string | null;
  /** field name → index type, e.g. { document_id: 'keyword' } */
  payloadIndexes: Record<string, string>;
}

export interface VectorSnapshot {
  name: string;
  size: number;
  createdAt: string | null;
  /** SHA-256 of the file when Qdrant reports it */
  checksum: string | null;
}
