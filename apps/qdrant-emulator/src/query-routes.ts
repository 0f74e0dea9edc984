import { Collection, PointRecord, ScoredRecord } from './collection';
import { DEFAULT_VECTOR } from './collection-config';
import { CollectionRegistry } from './collection-registry';
import { Predicate } from './filter-evaluator';
import { Router } from './http-router';
import {
  expectArray,
  expectObject,
  expectString,
  expectUint,
  isObject,
  JsonObject,
  JsonValue,
  optionalNumber,
} from './json-value';
import { context, discover, ExampleSource, exampleVector, recommend } from './example-queries';
import { fieldValues, parsePath } from './payload-path';
import { mmrRerank } from './mmr-rerank';
import { groupHits } from './point-groups';
import { comparePointIds, parsePointId, parseUuid, PointId } from './point-id';
import { scoreFormula } from './score-formula';
import { fuseDbsf, fuseRrf } from './score-fusion';
import { unsupportedFeature } from './unsupported-routes';
import { QdrantError } from './qdrant-error';
import {
  filterOf,
  formatRecord,
  formatScored,
  isSparseInput,
  parseLimit,
  parseSparse,
  parseWithPayload,
  parseWithVector,
} from './request-parsing';
import { SparseVector } from './update-operation';

type Nearest =
  | { kind: 'dense'; vector: Float32Array; exclude?: PointId }
  | { kind: 'sparse'; vector: SparseVector; exclude?: PointId };

function and(a: Predicate | null, b: Predicate | null): Predicate | null {
  if (!a) return b;
  if (!b) return a;
  const both: Predicate = (t) => a(t) && b(t);
  // Either side's index candidates bound the conjunction.
  both.candidates = () =>
    (a.candidates ? a.candidates() : null) ?? (b.candidates ? b.candidates() : null);
  return both;
}

function denseQuery(collection: Collection, using: string, values: JsonValue[]): Nearest {
  const index = collection.dense.get(using);
  if (!index) throw QdrantError.wrongInput(`Not existing vector name error: ${using}`);
  const numbers = values.map((v) => {
    if (typeof v !== 'number')
      throw QdrantError.format('data did not match any variant of untagged enum QueryInterface');
    return v;
  });
  if (numbers.length !== index.store.dim) {
    throw QdrantError.wrongInput(
      `Vector dimension error: expected dim: ${index.store.dim}, got ${numbers.length}`,
    );
  }
  return { kind: 'dense', vector: index.store.prepare(numbers) };
}

/** A nearest-neighbour target: a vector, a sparse vector, or an existing point's vector. */
function resolveNearest(collection: Collection, raw: JsonValue, using: string): Nearest {
  if (Array.isArray(raw)) return denseQuery(collection, using, raw);
  if (isSparseInput(raw)) {
    if (!collection.sparseNames.has(using))
      throw QdrantError.wrongInput(`Not existing vector name error: ${using}`);
    return { kind: 'sparse', vector: parseSparse(raw, 'query') };
  }
  if (typeof raw === 'number' || typeof raw === 'string') {
    const id = parsePointId(raw);
    const record = collection.points.get(id);
    if (!record) throw QdrantError.notFound(`No point with id ${id} found`);
    if (collection.sparseNames.has(using)) {
      const sv = record.sparse.get(using);
      if (!sv) throw QdrantError.wrongInput(`Vector ${using} is not found for point ${id}`);
      return { kind: 'sparse', vector: sv, exclude: id };
    }
    const index = collection.dense.get(using);
    if (!index) throw QdrantError.wrongInput(`Not existing vector name error: ${using}`);
    const slot = record.dense.get(using);
    if (slot === undefined)
      throw QdrantError.wrongInput(`Vector ${using} is not found for point ${id}`);
    return { kind: 'dense', vector: Float32Array.from(index.store.view(slot)), exclude: id };
  }
  if (isObject(raw) && 'nearest' in raw) return resolveNearest(collection, raw.nearest, using);
  throw QdrantError.format('data did not match any variant of untagged enum QueryInterface');
}

function runNearest(
  collection: Collection,
  nearest: Nearest,
  using: string,
  k: number,
  filter: Predicate | null,
  threshold: number | undefined,
): ScoredRecord[] {
  if (nearest.kind === 'dense') {
    return collection.searchDense(using, nearest.vector, k, filter, threshold, nearest.exclude);
  }
  return collection.searchSparse(using, nearest.vector, k, filter, threshold, nearest.exclude);
}

/** What one query request runs against: its collection, and the registry for `lookup_from`. */
interface QueryScope {
  registry: CollectionRegistry;
  collection: Collection;
}

const UNSUPPORTED = ['relevance_feedback'];
const RANGE_INDEX_TYPES = new Set(['integer', 'float', 'datetime']);

function exampleSource(scope: QueryScope, body: JsonObject, using: string): ExampleSource {
  if (body.lookup_from === undefined || body.lookup_from === null) {
    const c = scope.collection;
    return { target: c, using, lookup: c, lookupUsing: using, excluded: new Set() };
  }
  const lookup = expectObject(body.lookup_from, 'struct LookupLocation');
  if (lookup.collection === undefined) throw QdrantError.format('missing field `collection`');
  const lookupUsing =
    lookup.vector === undefined || lookup.vector === null ? using : expectString(lookup.vector);
  return {
    target: scope.collection,
    using,
    lookup: scope.registry.get(expectString(lookup.collection)),
    lookupUsing,
    excluded: new Set(),
  };
}

/** The numeric value `order_by` sorts a point by: its lowest for asc, its highest for desc. */
function orderValueOf(record: PointRecord, segments: ReturnType<typeof parsePath>, asc: boolean) {
  let best: number | undefined;
  for (const v of fieldValues(record.payload, segments)) {
    const n = typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : NaN;
    if (Number.isNaN(n)) continue;
    if (best === undefined || (asc ? n < best : n > best)) best = n;
  }
  return best;
}

function orderBy(
  collection: Collection,
  raw: JsonValue,
  k: number,
  scope: Predicate | null,
): ScoredRecord[] {
  const spec = typeof raw === 'string' ? { key: raw } : expectObject(raw, 'struct OrderBy');
  if (spec.key === undefined) throw QdrantError.format('missing field `key`');
  const key = expectString(spec.key);
  const type = String(collection.indexes.get(key)?.data_type ?? '');
  if (!RANGE_INDEX_TYPES.has(type)) {
    throw QdrantError.badRequest(
      `No range index for \`order_by\` key: \`${key}\`. Please create one to use \`order_by\`. Check https://qdrant.tech/documentation/concepts/indexing/#payload-index to see which payload schemas support Range conditions`,
    );
  }
  const direction = spec.direction ?? 'asc';
  if (direction !== 'asc' && direction !== 'desc') {
    throw QdrantError.format(
      `unknown variant \`${String(direction)}\`, expected \`asc\` or \`desc\``,
    );
  }
  const asc = direction === 'asc';
  const start = spec.start_from;
  const from =
    start === undefined || start === null
      ? undefined
      : typeof start === 'string'
        ? Date.parse(start)
        : optionalNumber(start);
  const segments = parsePath(key);
  const hits: ScoredRecord[] = [];
  for (const record of collection.select(scope)) {
    const value = orderValueOf(record, segments, asc);
    if (value === undefined) continue;
    if (from !== undefined && (asc ? value < from : value > from)) continue;
    hits.push({ record, score: 0, orderValue: value });
  }
  hits.sort((a, b) => {
    const x = a.orderValue as number;
    const y = b.orderValue as number;
    if (x !== y) return asc ? x - y : y - x;
    return comparePointIds(a.record.id, b.record.id);
  });
  return hits.slice(0, k);
}

function sample(collection: Collection, k: number, scope: Predicate | null): ScoredRecord[] {
  const pool = collection.select(scope).slice();
  // A partial Fisher-Yates shuffle: k random points without repeats.
  const n = Math.min(k, pool.length);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(Math.random() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, n).map((record) => ({ record, score: 0 }));
}

function fuse(
  query: JsonObject,
  candidates: ScoredRecord[][] | null,
  k: number,
  threshold: number | undefined,
): ScoredRecord[] {
  if (!candidates) return [];
  let fused: ScoredRecord[];
  if ('fusion' in query) {
    if (query.fusion === 'rrf') fused = fuseRrf(candidates, 2);
    else if (query.fusion === 'dbsf') fused = fuseDbsf(candidates);
    else {
      throw QdrantError.format(
        `unknown variant \`${String(query.fusion)}\`, expected \`rrf\` or \`dbsf\``,
      );
    }
  } else {
    const rrf = isObject(query.rrf) ? query.rrf : {};
    const rrfK = rrf.k === undefined || rrf.k === null ? 2 : expectUint(rrf.k);
    if (rrfK < 1)
      throw QdrantError.validation('query.rrf.k', `value ${rrfK} invalid, must be 1 or larger`);
    let weights: number[] | undefined;
    if (rrf.weights !== undefined && rrf.weights !== null) {
      weights = expectArray(rrf.weights).map((w) => optionalNumber(w) ?? 1);
      if (weights.length !== candidates.length) {
        throw QdrantError.badRequest(
          `Number of weights (${weights.length}) must match the number of prefetches (${candidates.length})`,
        );
      }
    }
    fused = fuseRrf(candidates, rrfK, weights);
  }
  return (threshold === undefined ? fused : fused.filter((h) => h.score >= threshold)).slice(0, k);
}

/** Runs one QueryRequest (or prefetch) and returns hits before offset/limit slicing by the caller. */
function executeQuery(
  scope: QueryScope,
  body: JsonObject,
  outer: Predicate | null,
  path: string,
  k: number,
): ScoredRecord[] {
  const collection = scope.collection;
  const using =
    body.using === undefined || body.using === null ? DEFAULT_VECTOR : expectString(body.using);
  const filter = and(outer, filterOf(collection, body.filter, `${path}filter`));
  const threshold = optionalNumber(body.score_threshold);
  // Search is exact over the original vectors; quantized search is left out.
  if (
    isObject(body.params) &&
    body.params.quantization !== undefined &&
    body.params.quantization !== null
  )
    throw unsupportedFeature('Searching with quantization params');
  let candidates: ScoredRecord[][] | null = null;
  if (body.prefetch !== undefined && body.prefetch !== null) {
    const prefetches = Array.isArray(body.prefetch) ? body.prefetch : [body.prefetch];
    candidates = prefetches.map((p, i) => {
      const sub = expectObject(p, 'struct Prefetch');
      const limit = parseLimit(sub.limit, 10, `${path}prefetch[${i}].limit`);
      return executeQuery(scope, sub, filter, `${path}prefetch[${i}].`, limit);
    });
  }
  const query = body.query;
  if (query === undefined || query === null) {
    if (candidates) return candidates[0] ?? [];
    return collection
      .select(filter)
      .slice(0, k)
      .map((record) => ({ record, score: 0 }));
  }
  if (isObject(query) && ('fusion' in query || 'rrf' in query)) {
    return fuse(query, candidates, k, threshold);
  }
  if (isObject(query) && 'formula' in query)
    return scoreFormula(collection, query, candidates, k, threshold);
  let within = filter;
  if (candidates) {
    const allowed = new Set<PointRecord>(candidates.flat().map((h) => h.record));
    within = and(filter, (t) => allowed.has(t as PointRecord));
  }
  const bounds = { k, filter: within, threshold };
  if (isObject(query)) {
    const refused = UNSUPPORTED.find((key) => key in query);
    if (refused) throw unsupportedFeature(`The ${refused} query`);
    if ('recommend' in query)
      return recommend(exampleSource(scope, body, using), query.recommend, bounds);
    if ('discover' in query)
      return discover(exampleSource(scope, body, using), query.discover, bounds);
    if ('context' in query)
      return context(exampleSource(scope, body, using), query.context, bounds);
    if ('order_by' in query) return orderBy(collection, query.order_by, k, within);
    if ('sample' in query) {
      if (query.sample !== 'random')
        throw QdrantError.format(
          `unknown variant \`${String(query.sample)}\`, expected \`random\``,
        );
      return sample(collection, k, within);
    }
  }
  const target = isObject(query) && 'nearest' in query ? query.nearest : query;
  const nearest: Nearest =
    body.lookup_from !== undefined &&
    body.lookup_from !== null &&
    (typeof target === 'number' || typeof target === 'string')
      ? { kind: 'dense', vector: exampleVector(exampleSource(scope, body, using), target) }
      : resolveNearest(collection, query, using);
  const search = (n: number) => runNearest(collection, nearest, using, n, within, threshold);
  if (isObject(query) && query.mmr !== undefined && query.mmr !== null) {
    if (nearest.kind !== 'dense') throw unsupportedFeature('mmr over a sparse vector');
    return mmrRerank(collection, using, nearest.vector, query.mmr, k, search);
  }
  return search(k);
}

function queryPoints(scope: QueryScope, raw: unknown): JsonObject {
  const body = expectObject(raw ?? {}, 'struct QueryRequest');
  const limit = parseLimit(body.limit, 10);
  scope.collection.checkQueryLimit(limit);
  const offset = body.offset === undefined || body.offset === null ? 0 : expectUint(body.offset);
  const withPayload = parseWithPayload(body.with_payload, false);
  const withVector = parseWithVector(body.with_vector, false);
  const hits = executeQuery(scope, body, null, '', limit + offset).slice(offset, offset + limit);
  return {
    points: hits.map((h) => formatScored(scope.collection, h, withPayload, withVector)),
  };
}

/** `group_by`, `group_size` and `limit` of a groups request; the hits come from `body` ranked. */
function queryGroups(scope: QueryScope, body: JsonObject, groupSizeRequired: boolean): JsonObject {
  if (body.group_by === undefined) throw QdrantError.format('missing field `group_by`');
  const groupBy = expectString(body.group_by);
  parsePath(groupBy);
  if (groupSizeRequired && body.group_size === undefined)
    throw QdrantError.format('missing field `group_size`');
  if (groupSizeRequired && body.limit === undefined)
    throw QdrantError.format('missing field `limit`');
  const groupSize = parseLimit(body.group_size, 3, 'group_size');
  const limit = parseLimit(body.limit, 10);
  scope.collection.checkQueryLimit(limit);
  const lookup = parseLookup(scope, body.with_lookup);
  const hits = executeQuery(scope, body, null, '', Math.max(scope.collection.points.size, 1));
  const result = groupHits(
    scope.collection,
    hits,
    groupBy,
    groupSize,
    limit,
    parseWithPayload(body.with_payload, false),
    parseWithVector(body.with_vector, false),
  );
  if (lookup) {
    for (const group of result.groups as JsonObject[]) {
      // A group id names a point of the lookup collection when it can be a point id.
      const id = typeof group.id === 'string' ? parseUuid(group.id) : group.id;
      const record =
        typeof id === 'number' || typeof id === 'string'
          ? lookup.collection.points.get(id)
          : undefined;
      if (record) {
        group.lookup = formatRecord(
          lookup.collection,
          record,
          lookup.withPayload,
          lookup.withVector,
        );
      }
    }
  }
  return result;
}

/** `with_lookup`: a collection name, or `{collection, with_payload, with_vectors}`. */
function parseLookup(scope: QueryScope, raw: JsonValue | undefined) {
  if (raw === undefined || raw === null) return null;
  const spec =
    typeof raw === 'string' ? { collection: raw } : expectObject(raw, 'struct WithLookup');
  if (spec.collection === undefined) throw QdrantError.format('missing field `collection`');
  return {
    collection: scope.registry.get(expectString(spec.collection)),
    withPayload: parseWithPayload(spec.with_payload, true),
    withVector: parseWithVector(spec.with_vectors, false),
  };
}

/** The 1.18 `vector` field: an array, or `{name, vector}`. Returns the query body it stands for. */
function searchAsQuery(body: JsonObject): JsonObject {
  if (body.vector === undefined) throw QdrantError.format('missing field `vector`');
  let using: JsonValue = DEFAULT_VECTOR;
  let target: JsonValue = body.vector;
  if (isObject(body.vector) && 'name' in body.vector) {
    using = expectString(body.vector.name);
    target = body.vector.vector;
  }
  if (!Array.isArray(target) && !isSparseInput(target)) {
    throw QdrantError.format('data did not match any variant of untagged enum NamedVectorStruct');
  }
  return { ...body, query: target, using };
}

/** The 1.18 `points/recommend` body as the query it stands for. */
function recommendAsQuery(body: JsonObject): JsonObject {
  const recommendation: JsonObject = {
    positive: body.positive ?? [],
    negative: body.negative ?? [],
  };
  if (body.strategy !== undefined && body.strategy !== null)
    recommendation.strategy = body.strategy;
  return { ...body, query: { recommend: recommendation } };
}

/** The 1.18 `points/discover` body: with a target it discovers, without one it is a context query. */
function discoverAsQuery(body: JsonObject): JsonObject {
  const pairs = body.context ?? [];
  const query: JsonObject =
    body.target === undefined || body.target === null
      ? { context: pairs }
      : { discover: { target: body.target, context: pairs } };
  return { ...body, query };
}

/** A 1.18 search-style request: `limit` required, results as a plain list. */
function legacyList(scope: QueryScope, body: JsonObject): JsonObject[] {
  if (body.limit === undefined) throw QdrantError.format('missing field `limit`');
  const limit = parseLimit(body.limit, 10);
  scope.collection.checkQueryLimit(limit);
  const offset = body.offset === undefined || body.offset === null ? 0 : expectUint(body.offset);
  const withPayload = parseWithPayload(body.with_payload, false);
  const withVector = parseWithVector(body.with_vector, false);
  return executeQuery(scope, body, null, '', limit + offset)
    .slice(offset, offset + limit)
    .map((h) => formatScored(scope.collection, h, withPayload, withVector));
}

export function registerQueryRoutes(router: Router, registry: CollectionRegistry): void {
  const scopeOf = (name: string): QueryScope => ({ registry, collection: registry.get(name) });
  router.add('POST', '/collections/{name}/points/query', (ctx) =>
    queryPoints(scopeOf(ctx.params[0]), ctx.json()),
  );
  router.add('POST', '/collections/{name}/points/query/batch', (ctx) => {
    const scope = scopeOf(ctx.params[0]);
    const body = expectObject(ctx.json(), 'struct QueryRequestBatch');
    return expectArray(body.searches).map((s) => queryPoints(scope, s));
  });
  router.add('POST', '/collections/{name}/points/query/groups', (ctx) =>
    queryGroups(
      scopeOf(ctx.params[0]),
      expectObject(ctx.json(), 'struct QueryGroupsRequest'),
      false,
    ),
  );

  // The 1.18 endpoints, each translated into the query it stands for.
  const legacy: Array<[string, string, (body: JsonObject) => JsonObject]> = [
    ['search', 'struct SearchRequest', searchAsQuery],
    ['recommend', 'struct RecommendRequest', recommendAsQuery],
    ['discover', 'struct DiscoverRequest', discoverAsQuery],
  ];
  for (const [verb, struct, translate] of legacy) {
    router.add('POST', `/collections/{name}/points/${verb}`, (ctx) =>
      legacyList(scopeOf(ctx.params[0]), translate(expectObject(ctx.json(), struct))),
    );
    router.add('POST', `/collections/{name}/points/${verb}/batch`, (ctx) => {
      const scope = scopeOf(ctx.params[0]);
      const body = expectObject(ctx.json(), `${struct}Batch`);
      return expectArray(body.searches).map((s) =>
        legacyList(scope, translate(expectObject(s, struct))),
      );
    });
  }
  for (const [verb, struct, translate] of legacy.slice(0, 2)) {
    router.add('POST', `/collections/{name}/points/${verb}/groups`, (ctx) =>
      queryGroups(scopeOf(ctx.params[0]), translate(expectObject(ctx.json(), struct)), true),
    );
  }
}
