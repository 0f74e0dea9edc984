import { Collection } from './collection';
import { isObject, JsonObject, JsonValue } from './json-value';
import { parseUuid } from './point-id';
import { QdrantError } from './qdrant-error';

export type FilterPurpose = 'retrieve' | 'update';

/** The index types that can serve one field condition, as Qdrant names them. */
function indexTypesFor(condition: JsonObject): string[] | null {
  const match = condition.match;
  if (isObject(match)) {
    if ('text' in match || 'phrase' in match) return ['text'];
    const sample =
      'value' in match
        ? match.value
        : Array.isArray(match.any)
          ? match.any[0]
          : Array.isArray(match.except)
            ? match.except[0]
            : undefined;
    if (typeof sample === 'boolean') return ['bool'];
    if (typeof sample === 'number') return ['integer'];
    if (typeof sample === 'string') return parseUuid(sample) ? ['keyword', 'uuid'] : ['keyword'];
    return null;
  }
  if (isObject(condition.range)) {
    const bounds = Object.values(condition.range);
    return bounds.some((b) => typeof b === 'string') ? ['datetime'] : ['float', 'integer'];
  }
  if (condition.geo_radius || condition.geo_bounding_box || condition.geo_polygon) return ['geo'];
  return null;
}

/** Every field condition of a filter, walking must/should/must_not/min_should (not nested). */
function fieldConditions(raw: JsonValue | undefined, out: JsonObject[]): JsonObject[] {
  if (!isObject(raw)) return out;
  if (typeof raw.key === 'string') {
    out.push(raw);
    return out;
  }
  for (const clause of ['must', 'should', 'must_not']) {
    const value = raw[clause];
    for (const item of Array.isArray(value) ? value : value ? [value] : [])
      fieldConditions(item, out);
  }
  if (isObject(raw.min_should) && Array.isArray(raw.min_should.conditions)) {
    for (const item of raw.min_should.conditions) fieldConditions(item, out);
  }
  return out;
}

/**
 * Strict mode's `unindexed_filtering_retrieve` / `unindexed_filtering_update` set to false:
 * a filter on a key without a suitable payload index is refused, with Qdrant's message.
 */
export function checkUnindexedFiltering(
  collection: Collection,
  raw: JsonValue | undefined,
  purpose: FilterPurpose,
): void {
  const strict = collection.config.strict_mode_config;
  if (strict.enabled !== true || strict[`unindexed_filtering_${purpose}`] !== false) return;
  for (const condition of fieldConditions(raw, [])) {
    const types = indexTypesFor(condition);
    if (!types) continue;
    const key = condition.key as string;
    const indexed = collection.indexes.get(key)?.data_type;
    if (typeof indexed === 'string' && types.includes(indexed)) continue;
    throw QdrantError.badRequest(
      `Index required but not found for "${key}" of one of the following types: [${types.join(', ')}]. Help: Create an index for this key or use a different filter.`,
    );
  }
}
