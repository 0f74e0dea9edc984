import { Collection, PointRecord } from './collection';
import { candidatesOf } from './filter-evaluator';
import { CollectionRegistry } from './collection-registry';
import { Router } from './http-router';
import { expectArray, expectBool, expectObject, expectString, JsonObject } from './json-value';
import { parsePath } from './payload-path';
import { comparePointIds, parsePathPointId, parsePointId, PointId } from './point-id';
import { QdrantError } from './qdrant-error';
import {
  filterOf,
  formatRecord,
  parseLimit,
  parseUpsertPoints,
  parseVectorStruct,
  parseWait,
  parseWithPayload,
  parseWithVector,
  selectIds,
} from './request-parsing';
import { PointWrite, UpdateOperation } from './update-operation';

/** Turns one update request (or one entry of a batch) into a loggable operation. */
function toOperation(collection: Collection, kind: string, raw: unknown): UpdateOperation {
  switch (kind) {
    case 'upsert':
      return { type: 'upsert', points: parseUpsertPoints(collection, raw) };
    case 'delete':
      return {
        type: 'delete',
        ids: selectIds(collection, expectObject(raw, 'enum PointsSelector'), false),
      };
    case 'set_payload':
    case 'overwrite_payload': {
      const body = expectObject(raw, 'struct SetPayload');
      if (body.payload === undefined) throw QdrantError.format('missing field `payload`');
      const payload = expectObject(body.payload, 'a map (payload)');
      const ids = selectIds(collection, body, true);
      if (kind === 'overwrite_payload') return { type: 'overwrite_payload', ids, payload };
      if (body.key !== undefined && body.key !== null) {
        const key = expectString(body.key);
        parsePath(key);
        return { type: 'set_payload', ids, payload, key };
      }
      return { type: 'set_payload', ids, payload };
    }
    case 'delete_payload': {
      const body = expectObject(raw, 'struct DeletePayload');
      if (body.keys === undefined) throw QdrantError.format('missing field `keys`');
      const keys = expectArray(body.keys).map((k) => expectString(k));
      keys.forEach((k) => parsePath(k));
      return { type: 'delete_payload', ids: selectIds(collection, body, true), keys };
    }
    case 'clear_payload':
      return {
        type: 'clear_payload',
        ids: selectIds(collection, expectObject(raw, 'enum PointsSelector'), true),
      };
    case 'update_vectors': {
      const body = expectObject(raw, 'struct UpdateVectors');
      const points: PointWrite[] = expectArray(body.points).map((p, i) => {
        const point = expectObject(p, 'struct PointVectors');
        const id = parsePointId(point.id);
        if (!collection.points.has(id)) throw QdrantError.notFound(`No point with id ${id} found`);
        if (point.vector === undefined) throw QdrantError.format('missing field `vector`');
        const { dense, sparse } = parseVectorStruct(
          collection,
          point.vector,
          `points[${i}].vector`,
        );
        if (dense.size + sparse.size === 0) {
          throw QdrantError.validation(
            `points[${i}].vector`,
            'must specify vectors to update for point',
          );
        }
        return { id, dense, sparse };
      });
      return { type: 'update_vectors', points };
    }
    case 'delete_vectors': {
      const body = expectObject(raw, 'struct DeleteVectors');
      const names = expectArray(body.vector).map((v) => expectString(v));
      for (const name of names) {
        if (!collection.dense.has(name) && !collection.sparseNames.has(name)) {
          throw QdrantError.wrongInput(`Not existing vector name error: ${name}`);
        }
      }
      return { type: 'delete_vectors', ids: selectIds(collection, body, true), names };
    }
    default:
      throw QdrantError.format(`unknown variant \`${kind}\``);
  }
}

const BATCH_KINDS: Record<string, string> = {
  upsert: 'upsert',
  delete: 'delete',
  set_payload: 'set_payload',
  overwrite_payload: 'overwrite_payload',
  delete_payload: 'delete_payload',
  clear_payload: 'clear_payload',
  update_vectors: 'update_vectors',
  delete_vectors: 'delete_vectors',
};

export function registerPointRoutes(router: Router, registry: CollectionRegistry): void {
  const update = (path: string, method: string, kind: string) =>
    router.add(method, path, async (ctx) => {
      const name = ctx.params[0];
      registry.get(name);
      // Upsert bodies can be megabytes of numbers: read them straight into float32, off the
      // event loop when they are large.
      const body = kind === 'upsert' ? await ctx.upsertJsonAsync() : ctx.json();
      if (body === undefined)
        throw QdrantError.format('EOF while parsing a value at line 1 column 0');
      const op = toOperation(registry.get(name), kind, body);
      const wait = parseWait(ctx.query);
      const [opId] = await registry.commit(name, [op], wait);
      return { operation_id: opId, status: wait ? 'completed' : 'acknowledged' };
    });

  update('/collections/{name}/points', 'PUT', 'upsert');
  update('/collections/{name}/points/delete', 'POST', 'delete');
  update('/collections/{name}/points/payload', 'POST', 'set_payload');
  update('/collections/{name}/points/payload', 'PUT', 'overwrite_payload');
  update('/collections/{name}/points/payload/delete', 'POST', 'delete_payload');
  update('/collections/{name}/points/payload/clear', 'POST', 'clear_payload');
  update('/collections/{name}/points/vectors', 'PUT', 'update_vectors');
  update('/collections/{name}/points/vectors/delete', 'POST', 'delete_vectors');

  router.add('POST', '/collections/{name}/points/batch', async (ctx) => {
    const name = ctx.params[0];
    const collection = registry.get(name);
    const body = expectObject(ctx.json(), 'struct UpdateOperations');
    const wait = parseWait(ctx.query);
    const results: JsonObject[] = [];
    // Each operation sees the effects of the ones before it, as in Qdrant.
    for (const entry of expectArray(body.operations)) {
      const operation = expectObject(entry, 'enum UpdateOperation');
      const kinds = Object.keys(operation).filter((k) => k in BATCH_KINDS);
      if (kinds.length !== 1)
        throw QdrantError.format('data did not match any variant of untagged enum UpdateOperation');
      const op = toOperation(collection, BATCH_KINDS[kinds[0]], operation[kinds[0]]);
      const [opId] = await registry.commit(name, [op], false);
      results.push({ operation_id: opId, status: wait ? 'completed' : 'acknowledged' });
    }
    if (wait && results.length > 0) await registry.commit(name, [], true);
    return results;
  });

  router.add('GET', '/collections/{name}/points/{id}', ({ params }) => {
    const collection = registry.get(params[0]);
    const id = parsePathPointId(params[1]);
    const record = collection.points.get(id);
    if (!record) throw QdrantError.notFound(`Point with id ${id} does not exists!`);
    return formatRecord(collection, record, true, true);
  });

  router.add('POST', '/collections/{name}/points', (ctx) => {
    const collection = registry.get(ctx.params[0]);
    const body = expectObject(ctx.json(), 'struct PointRequest');
    if (body.ids === undefined) throw QdrantError.format('missing field `ids`');
    const ids = expectArray(body.ids).map((v) => parsePointId(v));
    const withPayload = parseWithPayload(body.with_payload, true);
    const withVector = parseWithVector(body.with_vector, false);
    const seen = new Set<PointId>();
    const out: JsonObject[] = [];
    for (const id of ids) {
      const record = collection.points.get(id);
      if (!record || seen.has(id)) continue;
      seen.add(id);
      out.push(formatRecord(collection, record, withPayload, withVector));
    }
    return out;
  });

  router.add('POST', '/collections/{name}/points/scroll', (ctx) => {
    const collection = registry.get(ctx.params[0]);
    const body = expectObject(ctx.json() ?? {}, 'struct ScrollRequest');
    const limit = parseLimit(body.limit, 10);
    collection.checkQueryLimit(limit);
    const withPayload = parseWithPayload(body.with_payload, true);
    const withVector = parseWithVector(body.with_vector, false);
    const filter = filterOf(collection, body.filter);
    const offset =
      body.offset === undefined || body.offset === null ? null : parsePointId(body.offset);
    // With index candidates the scan covers only them (already filtered, in id order).
    const all = filter && candidatesOf(filter) ? collection.select(filter) : collection.sorted();
    let start = 0;
    if (offset !== null) {
      let lo = 0;
      let hi = all.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (comparePointIds(all[mid].id, offset) < 0) lo = mid + 1;
        else hi = mid;
      }
      start = lo;
    }
    const points: JsonObject[] = [];
    let next: PointId | null = null;
    for (let i = start; i < all.length; i++) {
      const record = all[i];
      if (filter && !filter(record)) continue;
      if (points.length === limit) {
        next = record.id;
        break;
      }
      points.push(formatRecord(collection, record, withPayload, withVector));
    }
    return { points, next_page_offset: next };
  });

  router.add('POST', '/collections/{name}/facet', (ctx) => {
    const collection = registry.get(ctx.params[0]);
    const body = expectObject(ctx.json(), 'struct FacetRequest');
    if (body.key === undefined) throw QdrantError.format('missing field `key`');
    const key = expectString(body.key);
    parsePath(key);
    const limit = parseLimit(body.limit, 10);
    if (body.exact !== undefined && body.exact !== null) expectBool(body.exact);
    // Counts are always exact here: one segment, so the approximate count is the exact one.
    return { hits: collection.facet(key, filterOf(collection, body.filter), limit) };
  });

  router.add('POST', '/collections/{name}/points/count', (ctx) => {
    const collection = registry.get(ctx.params[0]);
    const body = expectObject(ctx.json() ?? {}, 'struct CountRequest');
    // An estimate may be exact; with one segment and no deferred points it always is here.
    if (body.exact !== undefined && body.exact !== null) expectBool(body.exact);
    const filter = filterOf(collection, body.filter);
    if (!filter) return { count: collection.points.size };
    let count = 0;
    const candidates = candidatesOf<PointRecord>(filter);
    for (const record of candidates ?? collection.points.values()) if (filter(record)) count++;
    return { count };
  });
}
