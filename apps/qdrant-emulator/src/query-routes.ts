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
import { comparePointIds, parsePointId, PointId } from './point-id';
import { QdrantError } from './qdrant-error';
import {
  filterOf,
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

function fuseRrf(lists: ScoredRecord[][], k: number): ScoredRecord[] {
  const scores = new Map<PointId, ScoredRecord>();
  for (const list of lists) {
    list.forEach((hit, rank) => {
      const entry = scores.get(hit.record.id) ?? { record: hit.record, score: 0 };
      entry.score += 1 / (k + rank + 1);
      scores.set(hit.record.id, entry);
    });
  }
  return [...scores.values()]
    .map((e) => ({ record: e.record, score: Math.fround(e.score) }))
    .sort((a, b) =>
      a.score === b.score ? comparePointIds(a.record.id, b.record.id) : b.score - a.score,
    );
}

const UNSUPPORTED = [
  'recommend',
  'discover',
  'context',
  'order_by',
  'formula',
  'sample',
  'relevance_feedback',
];

/** Runs one QueryRequest (or prefetch) and returns hits before offset/limit slicing by the caller. */
function executeQuery(
  collection: Collection,
  body: JsonObject,
  outer: Predicate | null,
  path: string,
  k: number,
): ScoredRecord[] {
  const using =
    body.using === undefined || body.using === null ? DEFAULT_VECTOR : expectString(body.using);
  const filter = and(outer, filterOf(collection, body.filter, `${path}filter`));
  const threshold = optionalNumber(body.score_threshold);
  let candidates: ScoredRecord[][] | null = null;
  if (body.prefetch !== undefined && body.prefetch !== null) {
    const prefetches = Array.isArray(body.prefetch) ? body.prefetch : [body.prefetch];
    candidates = prefetches.map((p, i) => {
      const sub = expectObject(p, 'struct Prefetch');
      const limit = parseLimit(sub.limit, 10, `${path}prefetch[${i}].limit`);
      return executeQuery(collection, sub, filter, `${path}prefetch[${i}].`, limit);
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
    if (!candidates) return [];
    if ('fusion' in query && query.fusion !== 'rrf' && query.fusion !== 'dbsf') {
      throw QdrantError.format(
        `unknown variant \`${String(query.fusion)}\`, expected \`rrf\` or \`dbsf\``,
      );
    }
    const rrfK = isObject(query.rrf) && typeof query.rrf.k === 'number' ? query.rrf.k : 2;
    const fused = fuseRrf(candidates, rrfK);
    return (threshold === undefined ? fused : fused.filter((h) => h.score >= threshold)).slice(
      0,
      k,
    );
  }
  if (isObject(query)) {
    const unsupported = UNSUPPORTED.find((key) => key in query);
    if (unsupported)
      throw QdrantError.wrongInput(
        `The ${unsupported} query is not supported by the Qdrant emulator`,
      );
  }
  const nearest = resolveNearest(collection, query, using);
  let scope = filter;
  if (candidates) {
    const allowed = new Set<PointRecord>(candidates.flat().map((h) => h.record));
    scope = and(filter, (t) => allowed.has(t as PointRecord));
  }
  return runNearest(collection, nearest, using, k, scope, threshold);
}

function queryPoints(collection: Collection, raw: unknown): JsonObject {
  const body = expectObject(raw ?? {}, 'struct QueryRequest');
  const limit = parseLimit(body.limit, 10);
  const offset = body.offset === undefined || body.offset === null ? 0 : expectUint(body.offset);
  const withPayload = parseWithPayload(body.with_payload, false);
  const withVector = parseWithVector(body.with_vector, false);
  const hits = executeQuery(collection, body, null, '', limit + offset).slice(
    offset,
    offset + limit,
  );
  return { points: hits.map((h) => formatScored(collection, h, withPayload, withVector)) };
}

/** The 1.18 `POST /points/search` body: `vector` is an array or `{name, vector}`. */
function searchPoints(collection: Collection, raw: unknown): JsonObject[] {
  const body = expectObject(raw, 'struct SearchRequest');
  if (body.vector === undefined) throw QdrantError.format('missing field `vector`');
  if (body.limit === undefined) throw QdrantError.format('missing field `limit`');
  const limit = parseLimit(body.limit, 10);
  const offset = body.offset === undefined || body.offset === null ? 0 : expectUint(body.offset);
  let using = DEFAULT_VECTOR;
  let target: JsonValue = body.vector;
  if (isObject(body.vector) && 'name' in body.vector) {
    using = expectString(body.vector.name);
    target = body.vector.vector;
  }
  if (!Array.isArray(target) && !isSparseInput(target)) {
    throw QdrantError.format('data did not match any variant of untagged enum NamedVectorStruct');
  }
  const nearest = resolveNearest(collection, target, using);
  const filter = filterOf(collection, body.filter);
  const hits = runNearest(
    collection,
    nearest,
    using,
    limit + offset,
    filter,
    optionalNumber(body.score_threshold),
  );
  const withPayload = parseWithPayload(body.with_payload, false);
  const withVector = parseWithVector(body.with_vector, false);
  return hits
    .slice(offset, offset + limit)
    .map((h) => formatScored(collection, h, withPayload, withVector));
}

export function registerQueryRoutes(router: Router, registry: CollectionRegistry): void {
  router.add('POST', '/collections/{name}/points/query', (ctx) =>
    queryPoints(registry.get(ctx.params[0]), ctx.json()),
  );
  router.add('POST', '/collections/{name}/points/query/batch', (ctx) => {
    const collection = registry.get(ctx.params[0]);
    const body = expectObject(ctx.json(), 'struct QueryRequestBatch');
    return expectArray(body.searches).map((s) => queryPoints(collection, s));
  });
  router.add('POST', '/collections/{name}/points/search', (ctx) =>
    searchPoints(registry.get(ctx.params[0]), ctx.json()),
  );
  router.add('POST', '/collections/{name}/points/search/batch', (ctx) => {
    const collection = registry.get(ctx.params[0]);
    const body = expectObject(ctx.json(), 'struct SearchRequestBatch');
    return expectArray(body.searches).map((s) => searchPoints(collection, s));
  });
}
