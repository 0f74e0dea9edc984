import { Collection, PointRecord, ScoredRecord } from './collection';
import { Predicate } from './filter-evaluator';
import { expectArray, expectObject, isObject, JsonObject, JsonValue } from './json-value';
import { fieldValues, parsePath } from './payload-path';
import { comparePointIds, PointId } from './point-id';
import { QdrantError } from './qdrant-error';
import { filterOf } from './request-parsing';

/** A compiled formula: the score of one point, given its prefetch scores. */
type Expression = (record: PointRecord, scores: Array<number | undefined>) => number;

const SCORE_VARIABLE = /^\$score(?:\[(\d+)\])?$/;
const CONDITION_KEYS = [
  'key',
  'must',
  'should',
  'must_not',
  'min_should',
  'has_id',
  'is_empty',
  'is_null',
  'has_vector',
  'nested',
];

function defaultOf(defaults: JsonObject, name: string): number {
  const value = defaults[name];
  return typeof value === 'number' ? value : 0;
}

function variable(name: string, defaults: JsonObject): Expression {
  const score = SCORE_VARIABLE.exec(name);
  if (score) {
    const index = score[1] === undefined ? 0 : Number(score[1]);
    return (_, scores) => scores[index] ?? defaultOf(defaults, name);
  }
  const segments = parsePath(name);
  return (record) => {
    const first = fieldValues(record.payload, segments).find((v) => typeof v === 'number');
    return typeof first === 'number' ? first : defaultOf(defaults, name);
  };
}

function decay(kind: string, raw: JsonValue, collection: Collection, defaults: JsonObject) {
  const params = expectObject(raw, `struct DecayParamsExpression`);
  if (params.x === undefined) throw QdrantError.format('missing field `x`');
  const x = compile(params.x, collection, defaults);
  const target =
    params.target === undefined || params.target === null
      ? () => 0
      : compile(params.target, collection, defaults);
  const scale = typeof params.scale === 'number' ? params.scale : 1;
  const midpoint = typeof params.midpoint === 'number' ? params.midpoint : 0.5;
  if (scale <= 0)
    throw QdrantError.validation('query.formula.scale', `value ${scale} invalid, must be above 0`);
  if (midpoint <= 0 || midpoint >= 1) {
    throw QdrantError.validation(
      'query.formula.midpoint',
      `value ${midpoint} invalid, must be between 0 and 1 (exclusive)`,
    );
  }
  const lambda = Math.log(midpoint) / (kind === 'gauss_decay' ? scale * scale : scale);
  const shape =
    kind === 'lin_decay'
      ? (d: number) => Math.max(0, 1 - ((1 - midpoint) / scale) * Math.abs(d))
      : kind === 'exp_decay'
        ? (d: number) => Math.exp(lambda * Math.abs(d))
        : (d: number) => Math.exp(lambda * d * d);
  const expression: Expression = (record, scores) =>
    shape(x(record, scores) - target(record, scores));
  return expression;
}

/** Mean Earth radius in metres, as the haversine distance of Qdrant's geo code uses. */
const EARTH_RADIUS_M = 6371008.8;

function haversine(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const a =
    Math.sin(((lat2 - lat1) * rad) / 2) ** 2 +
    Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(((lon2 - lon1) * rad) / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.sqrt(a));
}

/** `geo_distance`: metres from `origin` to the point's geo value at `to`. */
function geoDistance(raw: JsonValue, defaults: JsonObject): Expression {
  const params = expectObject(raw, 'struct GeoDistanceParams');
  const origin = expectObject(params.origin, 'struct GeoPoint');
  if (typeof origin.lat !== 'number' || typeof origin.lon !== 'number')
    throw QdrantError.format('missing field `lat` or `lon` in `origin`');
  const to = String(params.to);
  const segments = parsePath(to);
  const { lat, lon } = origin;
  return (record) => {
    const point = fieldValues(record.payload, segments).find(
      (v) => isObject(v) && typeof v.lat === 'number' && typeof v.lon === 'number',
    ) as { lat: number; lon: number } | undefined;
    return point ? haversine(lat, lon, point.lat, point.lon) : defaultOf(defaults, to);
  };
}

/** Turns a formula expression (Qdrant's JSON form) into a function, refusing what it does not know. */
function compile(raw: JsonValue, collection: Collection, defaults: JsonObject): Expression {
  if (typeof raw === 'number') return () => raw;
  if (typeof raw === 'string') return variable(raw, defaults);
  const body = expectObject(raw, 'enum Expression');
  if (CONDITION_KEYS.some((key) => key in body)) {
    const condition = filterOf(collection, { must: [body] }) as Predicate;
    return (record) => (condition(record) ? 1 : 0);
  }
  const sub = (value: JsonValue) => compile(value, collection, defaults);
  const list = (value: JsonValue) => expectArray(value).map(sub);
  const [kind] = Object.keys(body);
  const arg = body[kind];
  switch (kind) {
    case 'sum': {
      const terms = list(arg);
      return (r, s) => terms.reduce((acc, t) => acc + t(r, s), 0);
    }
    case 'mult': {
      const factors = list(arg);
      return (r, s) => factors.reduce((acc, f) => acc * f(r, s), 1);
    }
    case 'neg':
    case 'abs':
    case 'sqrt':
    case 'exp':
    case 'log10':
    case 'ln': {
      const inner = sub(arg);
      const fn = {
        neg: (v: number) => -v,
        abs: Math.abs,
        sqrt: Math.sqrt,
        exp: Math.exp,
        log10: Math.log10,
        ln: Math.log,
      }[kind];
      return (r, s) => fn(inner(r, s));
    }
    case 'div': {
      const div = expectObject(arg, 'struct DivParams');
      const left = sub(div.left);
      const right = sub(div.right);
      const byZero = typeof div.by_zero_default === 'number' ? div.by_zero_default : undefined;
      return (r, s) => {
        const denominator = right(r, s);
        if (denominator === 0) {
          if (byZero === undefined) throw QdrantError.badRequest('Division by zero in the formula');
          return byZero;
        }
        return left(r, s) / denominator;
      };
    }
    case 'pow': {
      const pow = expectObject(arg, 'struct PowParams');
      const base = sub(pow.base);
      const exponent = sub(pow.exponent);
      return (r, s) => Math.pow(base(r, s), exponent(r, s));
    }
    case 'lin_decay':
    case 'exp_decay':
    case 'gauss_decay':
      return decay(kind, arg, collection, defaults);
    case 'datetime': {
      const seconds = Date.parse(String(arg)) / 1000;
      if (!Number.isFinite(seconds))
        throw QdrantError.format(`invalid datetime: ${JSON.stringify(arg)}`);
      return () => seconds;
    }
    case 'datetime_key': {
      const segments = parsePath(String(arg));
      return (record) => {
        const text = fieldValues(record.payload, segments).find((v) => typeof v === 'string');
        const seconds = typeof text === 'string' ? Date.parse(text) / 1000 : NaN;
        return Number.isFinite(seconds) ? seconds : defaultOf(defaults, String(arg));
      };
    }
    case 'geo_distance':
      return geoDistance(arg, defaults);
    default:
      throw QdrantError.format('data did not match any variant of untagged enum Expression');
  }
}

/**
 * `formula`: rescores the union of the prefetches' points, `$score[i]` being a point's
 * score in prefetch i (`$score` is prefetch 0), payload keys and conditions as variables.
 */
export function scoreFormula(
  collection: Collection,
  query: JsonObject,
  candidates: ScoredRecord[][] | null,
  k: number,
  threshold: number | undefined,
): ScoredRecord[] {
  if (!candidates) throw QdrantError.badRequest('A formula query needs at least one prefetch');
  const defaults = isObject(query.defaults) ? query.defaults : {};
  const expression = compile(query.formula, collection, defaults);
  const scores = new Map<PointId, { record: PointRecord; scores: Array<number | undefined> }>();
  candidates.forEach((list, i) => {
    for (const hit of list) {
      const entry = scores.get(hit.record.id) ?? { record: hit.record, scores: [] };
      entry.scores[i] = hit.score;
      scores.set(hit.record.id, entry);
    }
  });
  const hits: ScoredRecord[] = [];
  for (const { record, scores: pointScores } of scores.values()) {
    const value = expression(record, pointScores);
    if (!Number.isFinite(value))
      throw QdrantError.badRequest(`The formula gave a non-finite score for point ${record.id}`);
    const score = Math.fround(value);
    if (threshold === undefined || score >= threshold) hits.push({ record, score });
  }
  hits.sort((a, b) =>
    a.score === b.score ? comparePointIds(a.record.id, b.record.id) : b.score - a.score,
  );
  return hits.slice(0, k);
}
