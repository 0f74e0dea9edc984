import { Collection, ScoredRecord } from './collection';
import { JsonObject, JsonValue } from './json-value';
import { fieldValues, parsePath } from './payload-path';
import { PayloadSelector, formatScored } from './request-parsing';

/**
 * Groups ranked hits by the values of a payload key (a point with several values joins
 * several groups): groups come in the order of their best hit, at most `limit` of them,
 * each with at most `groupSize` hits. Only string and integer values form groups.
 */
export function groupHits(
  collection: Collection,
  hits: ScoredRecord[],
  groupBy: string,
  groupSize: number,
  limit: number,
  withPayload: PayloadSelector,
  withVector: boolean | string[],
): JsonObject {
  const segments = parsePath(groupBy);
  const groups = new Map<JsonValue, ScoredRecord[]>();
  for (const hit of hits) {
    const values = new Set(
      fieldValues(hit.record.payload, segments).filter(
        (v) => typeof v === 'string' || Number.isInteger(v),
      ),
    );
    for (const value of values) {
      let group = groups.get(value);
      if (!group) {
        if (groups.size === limit) continue;
        groups.set(value, (group = []));
      }
      if (group.length < groupSize) group.push(hit);
    }
  }
  return {
    groups: [...groups].map(([id, members]) => ({
      id,
      hits: members.map((h) => formatScored(collection, h, withPayload, withVector)),
    })),
  };
}
