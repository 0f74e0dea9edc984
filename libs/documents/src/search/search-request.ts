import { badInput } from '../domain-errors';
import { isUuid } from '../documents.service';
import {
  DEFAULT_SEARCH_LIMIT,
  MAX_QUERY_LENGTH,
  MAX_SEARCH_LIMIT,
  MetadataScalar,
  SEARCH_MODES,
  SearchFilter,
  SearchMode,
  SearchRequest,
} from './search.types';

/** A request that passed validation, with defaults applied. */
export interface ValidSearch {
  query: string;
  mode: SearchMode;
  collectionIds?: string[];
  limit: number;
  cursor?: string;
  offset: number;
  scoreThreshold?: number;
  filter: ValidFilter;
}

export interface ValidFilter {
  metadataEquals: { key: string; value: MetadataScalar }[];
  metadataIn: { key: string; values: MetadataScalar[] }[];
  mimeTypes?: string[];
  createdFrom?: Date;
  createdTo?: Date;
}

const SEARCH_REQUEST_FIELDS: (keyof SearchRequest)[] = [
  'query',
  'mode',
  'collection_ids',
  'limit',
  'cursor',
  'offset',
  'score_threshold',
  'filter',
];
const MAX_METADATA_KEYS = 20;
const MAX_IN_VALUES = 100;
const MAX_COLLECTIONS = 100;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

const isScalar = (v: unknown): v is MetadataScalar =>
  typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));

function unknownKeys(value: Record<string, unknown>, allowed: string[], where: string): void {
  const extra = Object.keys(value).filter((k) => !allowed.includes(k));
  if (extra.length > 0) {
    throw badInput(
      `${where} has unknown fields: ${extra.join(', ')} (allowed: ${allowed.join(', ')})`,
    );
  }
}

function isoDate(value: unknown, where: string): Date {
  const date = typeof value === 'string' ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(value as string)) {
    throw badInput(`${where} must be an ISO 8601 date or date-time, e.g. 2026-01-31T00:00:00Z`);
  }
  return date;
}

export function validateFilter(raw: unknown): ValidFilter {
  const filter: ValidFilter = { metadataEquals: [], metadataIn: [] };
  if (raw === undefined || raw === null) return filter;
  if (!isPlainObject(raw)) throw badInput('filter must be an object');
  unknownKeys(raw, ['metadata', 'mime_type', 'created_at'], 'filter');
  const f = raw as SearchFilter & Record<string, unknown>;

  if (f.metadata !== undefined) {
    if (!isPlainObject(f.metadata))
      throw badInput('filter.metadata must be an object of key: value');
    const entries = Object.entries(f.metadata);
    if (entries.length > MAX_METADATA_KEYS) {
      throw badInput(`filter.metadata may hold at most ${MAX_METADATA_KEYS} keys`);
    }
    for (const [key, value] of entries) {
      if (key.length === 0 || key.length > 100) {
        throw badInput('filter.metadata keys must be 1–100 characters');
      }
      if (isScalar(value)) {
        filter.metadataEquals.push({ key, value });
      } else if (isPlainObject(value)) {
        unknownKeys(value, ['in'], `filter.metadata.${key}`);
        const values = value.in;
        if (
          !Array.isArray(values) ||
          values.length === 0 ||
          values.length > MAX_IN_VALUES ||
          !values.every(isScalar)
        ) {
          throw badInput(
            `filter.metadata.${key}.in must be a list of 1–${MAX_IN_VALUES} strings, numbers or booleans`,
          );
        }
        filter.metadataIn.push({ key, values });
      } else {
        throw badInput(
          `filter.metadata.${key} must be a string, number or boolean, or {"in": [...]}`,
        );
      }
    }
  }

  if (f.mime_type !== undefined) {
    const list = typeof f.mime_type === 'string' ? [f.mime_type] : f.mime_type;
    if (
      !Array.isArray(list) ||
      list.length === 0 ||
      list.length > 50 ||
      !list.every((m) => typeof m === 'string' && m.length > 0 && m.length <= 200)
    ) {
      throw badInput('filter.mime_type must be a media type or a non-empty list of them');
    }
    filter.mimeTypes = list;
  }

  if (f.created_at !== undefined) {
    if (!isPlainObject(f.created_at)) throw badInput('filter.created_at must be {gte?, lte?}');
    unknownKeys(f.created_at, ['gte', 'lte'], 'filter.created_at');
    const { gte, lte } = f.created_at as { gte?: unknown; lte?: unknown };
    if (gte === undefined && lte === undefined) {
      throw badInput('filter.created_at needs gte, lte or both');
    }
    if (gte !== undefined) filter.createdFrom = isoDate(gte, 'filter.created_at.gte');
    if (lte !== undefined) filter.createdTo = isoDate(lte, 'filter.created_at.lte');
    if (filter.createdFrom && filter.createdTo && filter.createdFrom > filter.createdTo) {
      throw badInput('filter.created_at.gte must not be after filter.created_at.lte');
    }
  }
  return filter;
}

/**
 * Checks a search request in the domain, so every caller (api, cli) refuses the same
 * things with the same messages. The api's DTO checks shapes first; this checks meaning.
 */
export function validateSearch(request: SearchRequest, maxOffset: number): ValidSearch {
  if (!isPlainObject(request)) throw badInput('the search request must be a JSON object');
  unknownKeys(request, SEARCH_REQUEST_FIELDS, 'the search request');
  if (typeof request.query !== 'string' || request.query.trim().length === 0) {
    throw badInput('query must be a non-empty string');
  }
  const query = request.query.trim().normalize('NFC');
  if (query.length > MAX_QUERY_LENGTH) {
    throw badInput(`query must be at most ${MAX_QUERY_LENGTH} characters`);
  }
  const mode = request.mode ?? 'hybrid';
  if (!SEARCH_MODES.includes(mode)) {
    throw badInput(`mode must be one of ${SEARCH_MODES.join(', ')}`);
  }
  const limit = request.limit ?? DEFAULT_SEARCH_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SEARCH_LIMIT) {
    throw badInput(`limit must be an integer from 1 to ${MAX_SEARCH_LIMIT}`);
  }
  const offset = request.offset ?? 0;
  if (!Number.isInteger(offset) || offset < 0 || offset > maxOffset) {
    throw badInput(`offset must be an integer from 0 to ${maxOffset}; use cursor to page further`);
  }
  if (request.cursor !== undefined && request.offset !== undefined) {
    throw badInput('give either cursor or offset, not both');
  }
  if (request.cursor !== undefined && typeof request.cursor !== 'string') {
    throw badInput('cursor must be a string');
  }
  let collectionIds: string[] | undefined;
  if (request.collection_ids !== undefined) {
    if (
      !Array.isArray(request.collection_ids) ||
      request.collection_ids.length === 0 ||
      request.collection_ids.length > MAX_COLLECTIONS ||
      !request.collection_ids.every((id) => typeof id === 'string' && isUuid(id))
    ) {
      throw badInput(`collection_ids must be a list of 1–${MAX_COLLECTIONS} collection UUIDs`);
    }
    collectionIds = [...new Set(request.collection_ids.map((id) => id.toLowerCase()))].sort();
  }
  const threshold = request.score_threshold;
  if (threshold !== undefined && (typeof threshold !== 'number' || !Number.isFinite(threshold))) {
    throw badInput('score_threshold must be a number');
  }
  return {
    query,
    mode,
    collectionIds,
    limit,
    cursor: request.cursor,
    offset,
    scoreThreshold: threshold,
    filter: validateFilter(request.filter),
  };
}
