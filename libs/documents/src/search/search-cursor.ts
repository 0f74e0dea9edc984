import { createHash } from 'node:crypto';
import { badInput } from '../domain-errors';
import type { SearchMode } from './search.types';

/**
 * Where the next page starts. Results are ordered by (score desc, chunk id asc); a page
 * holds the results strictly after (score, id), so pages never repeat or skip a result
 * of the same list.
 */
export interface SearchCursor {
  mode: SearchMode;
  /** fingerprint of the query, so a cursor cannot continue a different search */
  fingerprint: string;
  /** results returned before this page (for ranks) */
  position: number;
  score: number;
  id: string;
  /** semantic: Qdrant offset where every point ranked before (score, id) lies behind */
  rawOffset: number;
}

interface WireCursor {
  v: 1;
  m: SearchMode;
  f: string;
  p: number;
  s: number;
  i: string;
  r: number;
}

export function encodeCursor(cursor: SearchCursor): string {
  const wire: WireCursor = {
    v: 1,
    m: cursor.mode,
    f: cursor.fingerprint,
    p: cursor.position,
    s: cursor.score,
    i: cursor.id,
    r: cursor.rawOffset,
  };
  return Buffer.from(JSON.stringify(wire), 'utf8').toString('base64url');
}

const invalid = () =>
  badInput('cursor is not valid: pass next_cursor from the previous page unchanged');

export function decodeCursor(value: string): SearchCursor {
  if (value.length > 1_000 || !/^[\w-]+$/.test(value)) throw invalid();
  let wire: Partial<WireCursor>;
  try {
    wire = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as Partial<WireCursor>;
  } catch {
    throw invalid();
  }
  const ok =
    wire !== null &&
    typeof wire === 'object' &&
    wire.v === 1 &&
    typeof wire.m === 'string' &&
    typeof wire.f === 'string' &&
    Number.isInteger(wire.p) &&
    (wire.p ?? -1) >= 0 &&
    typeof wire.s === 'number' &&
    Number.isFinite(wire.s) &&
    typeof wire.i === 'string' &&
    (wire.i === '' || /^[0-9a-f-]{36}$/.test(wire.i)) &&
    Number.isInteger(wire.r) &&
    (wire.r ?? -1) >= 0;
  if (!ok) throw invalid();
  const w = wire as WireCursor;
  return { mode: w.m, fingerprint: w.f, position: w.p, score: w.s, id: w.i, rawOffset: w.r };
}

/** Stable digest of what defines a result list (not limit: pages may differ in size). */
export function searchFingerprint(parts: unknown): string {
  return createHash('sha256').update(stableJson(parts)).digest('base64url').slice(0, 16);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** True when (score, id) comes after the cursor in (score desc, id asc) order. */
export function isAfter(cursor: { score: number; id: string }, score: number, id: string): boolean {
  return score < cursor.score || (score === cursor.score && id > cursor.id);
}
