import { QdrantError } from './qdrant-error';
import { invalidType } from './json-value';

/** A point id as stored: an unsigned integer, or a UUID in lowercase hyphenated form. */
export type PointId = number | string;

const HEX32 = /^[0-9a-f]{32}$/;

/** Accepts the UUID spellings Qdrant accepts (hyphenated, simple, braced, urn) and canonicalises. */
export function parseUuid(text: string): string | null {
  let s = text.toLowerCase();
  if (s.startsWith('urn:uuid:')) s = s.slice(9);
  if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1);
  let hex: string;
  if (s.length === 36) {
    if (s[8] !== '-' || s[13] !== '-' || s[18] !== '-' || s[23] !== '-') return null;
    hex = s.slice(0, 8) + s.slice(9, 13) + s.slice(14, 18) + s.slice(19, 23) + s.slice(24);
  } else {
    hex = s;
  }
  if (!HEX32.test(hex)) return null;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function parsePointId(value: unknown): PointId {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0 && value <= Number.MAX_SAFE_INTEGER) return value;
    throw QdrantError.format(
      `data did not match any variant of untagged enum ExtendedPointId (got ${value})`,
    );
  }
  if (typeof value === 'string') {
    const uuid = parseUuid(value);
    if (uuid === null) throw QdrantError.format(`Unable to parse UUID: ${value}`);
    return uuid;
  }
  throw invalidType(value, 'an unsigned integer or a UUID');
}

/** Parses an id from a URL path segment: digits are integer ids, anything else must be a UUID. */
export function parsePathPointId(segment: string): PointId {
  if (/^\d+$/.test(segment)) return parsePointId(Number(segment));
  const uuid = parseUuid(segment);
  if (uuid === null) {
    throw QdrantError.wrongInput(`Unable to parse UUID: ${segment}`);
  }
  return uuid;
}

/** Qdrant's order: integer ids first (numerically), then UUIDs (as 128-bit numbers). */
export function comparePointIds(a: PointId, b: PointId): number {
  if (typeof a === 'number') {
    if (typeof b === 'number') return a - b;
    return -1;
  }
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
