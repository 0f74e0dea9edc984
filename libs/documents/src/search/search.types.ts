/** The three ways to search; `hybrid` fuses the other two. */
export const SEARCH_MODES = ['semantic', 'keyword', 'hybrid'] as const;
export type SearchMode = (typeof SEARCH_MODES)[number];

export type MetadataScalar = string | number | boolean;

/** Conditions on the document a chunk belongs to; all of them must hold. */
export interface SearchFilter {
  /** each key equals a value, or is one of `in` */
  metadata?: Record<string, MetadataScalar | { in: MetadataScalar[] }>;
  mime_type?: string | string[];
  created_at?: { gte?: string; lte?: string };
}

/** A search as the api receives it (snake_case, like every request body). */
export interface SearchRequest {
  query: string;
  mode?: SearchMode;
  collection_ids?: string[];
  limit?: number;
  /** opaque, from the previous page's `next_cursor` */
  cursor?: string;
  /** number of results to skip; an alternative to `cursor` */
  offset?: number;
  /** lower bound on the result's `score` (cosine for semantic, 0–1 for keyword and hybrid) */
  score_threshold?: number;
  filter?: SearchFilter;
}

export interface Highlight {
  start: number;
  end: number;
}

export interface SearchHitDocument {
  id: string;
  filename: string;
  collection_id: string;
  mime_type: string;
  metadata: Record<string, unknown>;
}

export interface SearchHit {
  chunk_id: string;
  text: string;
  /** character ranges of `text` where a query term (or its stem) occurs */
  highlights: Highlight[];
  score: number;
  /** 1-based position in the whole result list, across pages */
  rank: number;
  page: number | null;
  ordinal: number;
  document: SearchHitDocument;
}

export interface SearchResponse {
  results: SearchHit[];
  next_cursor: string | null;
  took_ms: number;
  mode: SearchMode;
}

export interface SimilarDocument {
  score: number;
  document: SearchHitDocument;
}

export interface SimilarDocumentsResponse {
  document_id: string;
  results: SimilarDocument[];
  took_ms: number;
}

/** Tuning of the search; every field has a default (see DEFAULT_SEARCH_OPTIONS). */
export interface SearchOptions {
  /** reciprocal rank fusion constant: score = Σ weight / (k + rank) */
  rrfK: number;
  /** override the embedder profile's fusion weights (tests and experiments) */
  semanticWeight?: number;
  keywordWeight?: number;
  /** candidates each list contributes to a hybrid fusion (the depth hybrid pages reach) */
  hybridCandidates: number;
  /** Qdrant rounds a semantic page may take when PostgreSQL rejects candidates */
  maxSemanticRounds: number;
  /** largest Qdrant batch of one round */
  maxSemanticBatch: number;
  /**
   * keyword: when too few chunks hold every query word, each word contributes at most
   * this many chunks (lowest ids first) to the ranking of partial matches
   */
  keywordTermCandidates: number;
  /** a filter matching at most this many documents is pushed down to Qdrant as ids */
  documentIdPushdownLimit: number;
  maxOffset: number;
}

export const DEFAULT_SEARCH_OPTIONS: SearchOptions = {
  rrfK: 60,
  // The fusion weights come from the embedder's profile (see embedding-profile.ts).
  hybridCandidates: 100,
  keywordTermCandidates: 1_000,
  maxSemanticRounds: 5,
  maxSemanticBatch: 1_000,
  documentIdPushdownLimit: 1_000,
  maxOffset: 10_000,
};

export const SEARCH_OPTIONS = Symbol('quarry.search.options');
export const MAX_SEARCH_LIMIT = 100;
export const DEFAULT_SEARCH_LIMIT = 10;
export const MAX_QUERY_LENGTH = 1_000;
