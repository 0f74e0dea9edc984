import {
  expectArray,
  expectObject,
  expectString,
  invalidType,
  isObject,
  JsonObject,
  JsonValue,
} from './json-value';
import { fieldValues, parsePath, valuesAt } from './payload-path';
import { parsePointId, PointId } from './point-id';
import { QdrantError } from './qdrant-error';

/** What a filter looks at: the id (absent inside `nested`), the payload and the vector names. */
export interface FilterTarget {
  id?: PointId;
  payload: JsonObject;
  hasVector?: (name: string) => boolean;
}

export type Predicate = ((target: FilterTarget) => boolean) & {
  /** A superset of the matching targets from payload indexes, when the filter allows one. */
  candidates?: () => FilterTarget[] | null;
};

/** The candidate superset attached to a compiled filter, if any. */
export function candidatesOf<T extends FilterTarget>(filter: Predicate): T[] | null {
  return filter.candidates ? (filter.candidates() as T[] | null) : null;
}

/** Fields that carry full-text indexes change how `match.text` compares (tokens, not substrings). */
export interface FilterContext {
  textIndexed: (key: string) => boolean;
}

const always: Predicate = () => true;

const FIELD_CONDITION_KEYS = [
  'match',
  'range',
  'geo_bounding_box',
  'geo_radius',
  'geo_polygon',
  'values_count',
  'is_empty',
  'is_null',
];

function tokens(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}_]+/u)
    .filter((t) => t.length > 0);
}

function toComparable(value: JsonValue): number | null {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const ms = Date.parse(
      value.includes('T') || value.includes(' ') ? value : `${value}T00:00:00Z`,
    );
    return Number.isNaN(ms) ? null : ms;
  }
  return null;
}

function compileRange(range: JsonObject, path: string): (v: number) => boolean {
  const bounds: Array<[string, (a: number, b: number) => boolean]> = [
    ['gt', (a, b) => a > b],
    ['gte', (a, b) => a >= b],
    ['lt', (a, b) => a < b],
    ['lte', (a, b) => a <= b],
  ];
  const checks: Array<(v: number) => boolean> = [];
  for (const [name, cmp] of bounds) {
    const raw = range[name];
    if (raw === undefined || raw === null) continue;
    let bound: number | null;
    if (typeof raw === 'number') bound = raw;
    else if (typeof raw === 'string') {
      bound = toComparable(raw);
      if (bound === null) throw QdrantError.format(`invalid datetime in ${path}.${name}: ${raw}`);
    } else throw invalidType(raw, 'f64');
    const b = bound;
    checks.push((v) => cmp(v, b));
  }
  return (v) => checks.every((check) => check(v));
}

function compileMatch(
  match: JsonObject,
  key: string,
  path: string,
  ctx: FilterContext,
): (values: JsonValue[]) => boolean {
  if ('value' in match) {
    const expected = match.value;
    if (
      typeof expected !== 'string' &&
      typeof expected !== 'number' &&
      typeof expected !== 'boolean'
    ) {
      throw invalidType(expected, 'a string, integer or boolean');
    }
    return (values) => values.some((v) => v === expected);
  }
  if ('any' in match) {
    const set = new Set(expectArray(match.any));
    return (values) => values.some((v) => set.has(v));
  }
  if ('except' in match) {
    const set = new Set(expectArray(match.except));
    return (values) => values.length > 0 && values.some((v) => v === null || !set.has(v));
  }
  if ('text' in match || 'phrase' in match || 'text_any' in match) {
    const mode = 'text' in match ? 'text' : 'phrase' in match ? 'phrase' : 'text_any';
    const text = expectString(match[mode]);
    if (ctx.textIndexed(key)) {
      const wanted = tokens(text);
      return (values) =>
        values.some((v) => {
          if (typeof v !== 'string') return false;
          const have = tokens(v);
          if (mode === 'phrase') return have.join(' ').includes(wanted.join(' '));
          const set = new Set(have);
          return mode === 'text_any'
            ? wanted.some((t) => set.has(t))
            : wanted.every((t) => set.has(t));
        });
    }
    return (values) => values.some((v) => typeof v === 'string' && v.includes(text));
  }
  throw QdrantError.format(`data did not match any variant of untagged enum Match at ${path}`);
}

function compileFieldCondition(cond: JsonObject, path: string, ctx: FilterContext): Predicate {
  const key = expectString(cond.key);
  const segments = parsePath(key);
  if (!FIELD_CONDITION_KEYS.some((k) => cond[k] !== undefined && cond[k] !== null)) {
    throw QdrantError.validation(path, 'At least one field condition must be specified');
  }
  const parts: Predicate[] = [];
  // Most keys are plain top-level names: read them directly, without path walking or
  // allocation (the single-value array is reused; callers only iterate it synchronously).
  const values: (payload: JsonObject) => JsonValue[] = /^[^.[\]"]+$/.test(key)
    ? (() => {
        const single: JsonValue[] = [null];
        const none: JsonValue[] = [];
        return (payload: JsonObject) => {
          const v = payload[key];
          if (v === undefined) return none;
          if (Array.isArray(v)) return v;
          single[0] = v;
          return single;
        };
      })()
    : (payload: JsonObject) => fieldValues(payload, segments);
  if (cond.match !== undefined && cond.match !== null) {
    const test = compileMatch(expectObject(cond.match), key, `${path}.match`, ctx);
    parts.push((t) => test(values(t.payload)));
  }
  if (cond.range !== undefined && cond.range !== null) {
    const test = compileRange(expectObject(cond.range), `${path}.range`);
    parts.push((t) =>
      values(t.payload).some((v) => {
        const n = toComparable(v);
        return n !== null && test(n);
      }),
    );
  }
  if (cond.values_count !== undefined && cond.values_count !== null) {
    const test = compileRange(expectObject(cond.values_count), `${path}.values_count`);
    parts.push((t) => test(values(t.payload).length));
  }
  if (cond.is_empty !== undefined && cond.is_empty !== null) {
    const want = cond.is_empty === true;
    parts.push((t) => isEmpty(t.payload, key) === want);
  }
  if (cond.is_null !== undefined && cond.is_null !== null) {
    const want = cond.is_null === true;
    parts.push((t) => isNull(t.payload, key) === want);
  }
  if (cond.geo_radius || cond.geo_bounding_box || cond.geo_polygon) {
    parts.push(compileGeo(cond, segments));
  }
  return parts.length === 1 ? parts[0] : (t) => parts.every((p) => p(t));
}

function isEmpty(payload: JsonObject, key: string): boolean {
  return fieldValues(payload, parsePath(key)).every((v) => v === null);
}

function isNull(payload: JsonObject, key: string): boolean {
  const raw = valuesAt(payload, parsePath(key));
  return raw.some(
    (v) => v === null || (Array.isArray(v) && v.length > 0 && v.every((x) => x === null)),
  );
}

function compileGeo(cond: JsonObject, segments: ReturnType<typeof parsePath>): Predicate {
  const points = (t: FilterTarget) =>
    fieldValues(t.payload, segments).filter(
      (v): v is JsonObject => isObject(v) && typeof v.lat === 'number' && typeof v.lon === 'number',
    );
  if (isObject(cond.geo_radius)) {
    const center = expectObject(cond.geo_radius.center);
    const radius = Number(cond.geo_radius.radius);
    const [lat0, lon0] = [Number(center.lat), Number(center.lon)];
    return (t) =>
      points(t).some((p) => haversine(lat0, lon0, p.lat as number, p.lon as number) <= radius);
  }
  if (isObject(cond.geo_bounding_box)) {
    const tl = expectObject(cond.geo_bounding_box.top_left);
    const br = expectObject(cond.geo_bounding_box.bottom_right);
    return (t) =>
      points(t).some(
        (p) =>
          (p.lat as number) <= Number(tl.lat) &&
          (p.lat as number) >= Number(br.lat) &&
          (p.lon as number) >= Number(tl.lon) &&
          (p.lon as number) <= Number(br.lon),
      );
  }
  return () => false;
}

function haversine(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const r = 6371008.8;
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a =
    Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * r * Math.asin(Math.sqrt(a));
}

function compileCondition(
  raw: JsonValue,
  path: string,
  ctx: FilterContext,
  nested: boolean,
): Predicate {
  const cond = expectObject(raw, 'a condition');
  if ('key' in cond) return compileFieldCondition(cond, path, ctx);
  if ('has_id' in cond) {
    if (nested)
      throw QdrantError.wrongInput('has_id condition is not supported inside nested filters');
    const ids = new Set(expectArray(cond.has_id).map((v) => parsePointId(v)));
    return (t) => t.id !== undefined && ids.has(t.id);
  }
  if ('is_empty' in cond) {
    const key = expectString(expectObject(cond.is_empty).key);
    parsePath(key);
    return (t) => isEmpty(t.payload, key);
  }
  if ('is_null' in cond) {
    const key = expectString(expectObject(cond.is_null).key);
    parsePath(key);
    return (t) => isNull(t.payload, key);
  }
  if ('has_vector' in cond) {
    const name = expectString(cond.has_vector);
    return (t) => (t.hasVector ? t.hasVector(name) : false);
  }
  if ('nested' in cond) {
    const nestedSpec = expectObject(cond.nested);
    const segments = parsePath(expectString(nestedSpec.key));
    const inner = compileFilterAt(nestedSpec.filter, `${path}.nested.filter`, ctx, true);
    return (t) =>
      fieldValues(t.payload, segments).some(
        (element) => isObject(element) && inner({ payload: element }),
      );
  }
  if ('must' in cond || 'should' in cond || 'must_not' in cond || 'min_should' in cond) {
    return compileFilterAt(cond, path, ctx, nested);
  }
  throw QdrantError.format('data did not match any variant of untagged enum Condition');
}

function conditionList(
  value: JsonValue | undefined,
  path: string,
  ctx: FilterContext,
  nested: boolean,
): Predicate[] | null {
  if (value === undefined || value === null) return null;
  const list = Array.isArray(value) ? value : [value];
  return list.map((c, i) =>
    compileCondition(c, Array.isArray(value) ? `${path}[${i}]` : path, ctx, nested),
  );
}

function compileFilterAt(
  raw: unknown,
  path: string,
  ctx: FilterContext,
  nested: boolean,
): Predicate {
  if (raw === undefined || raw === null) return always;
  const filter = expectObject(raw, 'struct Filter');
  const prefix = path === '' ? '' : `${path}.`;
  const must = conditionList(filter.must, `${prefix}must`, ctx, nested);
  const should = conditionList(filter.should, `${prefix}should`, ctx, nested);
  const mustNot = conditionList(filter.must_not, `${prefix}must_not`, ctx, nested);
  let minShould: { conditions: Predicate[]; count: number } | null = null;
  if (filter.min_should !== undefined && filter.min_should !== null) {
    const spec = expectObject(filter.min_should);
    const conditions =
      conditionList(spec.conditions, `${prefix}min_should.conditions`, ctx, nested) ?? [];
    const count = spec.min_count;
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
      throw invalidType(count, 'usize');
    }
    minShould = { conditions, count };
  }
  return (t) => {
    if (must) for (const p of must) if (!p(t)) return false;
    if (mustNot) for (const p of mustNot) if (p(t)) return false;
    if (should && should.length > 0 && !should.some((p) => p(t))) return false;
    if (minShould) {
      let hits = 0;
      for (const p of minShould.conditions) if (p(t)) hits++;
      if (hits < minShould.count) return false;
    }
    return true;
  };
}

/** Compiles a Qdrant filter once; throws Qdrant's 400/422 errors for malformed ones. */
export function compileFilter(raw: unknown, path: string, ctx: FilterContext): Predicate | null {
  if (raw === undefined || raw === null) return null;
  return compileFilterAt(raw, path, ctx, false);
}
