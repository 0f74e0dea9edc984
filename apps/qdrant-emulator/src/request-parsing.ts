import { Collection, PointRecord, ScoredRecord } from './collection';
import { DEFAULT_VECTOR } from './collection-config';
import { compileFilter, Predicate } from './filter-evaluator';
import {
  expectArray,
  expectObject,
  expectString,
  expectUint,
  invalidType,
  isObject,
  JsonObject,
  JsonValue,
} from './json-value';
import { omitPaths, pickPaths } from './payload-path';
import { parsePointId, PointId } from './point-id';
import { QdrantError } from './qdrant-error';
import { checkUnindexedFiltering, FilterPurpose } from './strict-mode';
import { PointWrite, SparseVector } from './update-operation';

/** The `wait` query flag; points updates default to false, snapshot operations to true. */
export function parseWait(query: URLSearchParams, fallback = false): boolean {
  const wait = query.get('wait');
  return wait === null ? fallback : wait === 'true';
}

export function isSparseInput(value: unknown): value is JsonObject {
  return isObject(value) && Array.isArray(value.indices) && Array.isArray(value.values);
}

export function parseSparse(raw: JsonValue, path: string): SparseVector {
  const obj = expectObject(raw, 'struct SparseVector');
  const indices = expectArray(obj.indices).map((v) => expectUint(v, 'u32'));
  const values = expectArray(obj.values).map((v) => {
    if (typeof v !== 'number') throw invalidType(v, 'f32');
    return v;
  });
  if (indices.length !== values.length) {
    throw QdrantError.validation(
      `${path}.values`,
      'Validation error: must be the same length as indices [{}]',
    );
  }
  if (new Set(indices).size !== indices.length) {
    throw QdrantError.validation(`${path}.indices`, 'Validation error: must be unique [{}]');
  }
  return { indices, values };
}

function denseValues(raw: JsonValue[], path: string): number[] {
  if (raw.length === 0) throw QdrantError.validation(path, 'dense vector must not be empty');
  for (const v of raw) {
    if (typeof v !== 'number') {
      if (Array.isArray(v))
        throw QdrantError.wrongInput('Multivectors are not supported by this collection');
      throw invalidType(v, 'f32');
    }
  }
  return raw as number[];
}

/**
 * Turns one point's vector input (a bare array, or a map of named dense/sparse vectors) into
 * prepared vectors, checking names and dimensions the way Qdrant does.
 */
export function parseVectorStruct(
  collection: Collection,
  raw: JsonValue | Float32Array,
  path: string,
): { dense: Map<string, Float32Array>; sparse: Map<string, SparseVector> } {
  const dense = new Map<string, Float32Array>();
  const sparse = new Map<string, SparseVector>();
  const addDense = (name: string, values: ArrayLike<number>) => {
    const index = collection.dense.get(name);
    if (!index) throw QdrantError.wrongInput(`Not existing vector name error: ${name}`);
    if (values.length !== index.store.dim) {
      throw QdrantError.wrongInput(
        `Vector dimension error: expected dim: ${index.store.dim}, got ${values.length}`,
      );
    }
    dense.set(name, index.store.prepare(values, values instanceof Float32Array));
  };
  if (raw instanceof Float32Array) {
    addDense(DEFAULT_VECTOR, raw);
  } else if (Array.isArray(raw)) {
    addDense(DEFAULT_VECTOR, denseValues(raw, `${path}.vector`));
  } else if (isObject(raw)) {
    for (const [name, value] of Object.entries(raw)) {
      if ((value as unknown) instanceof Float32Array) {
        addDense(name, value as unknown as Float32Array);
      } else if (Array.isArray(value)) {
        addDense(name, denseValues(value, `${path}.${name}`));
      } else if (isSparseInput(value)) {
        if (!collection.sparseNames.has(name)) {
          throw QdrantError.wrongInput(`Not existing vector name error: ${name}`);
        }
        sparse.set(name, parseSparse(value, `${path}.?`));
      } else {
        throw QdrantError.format('data did not match any variant of untagged enum VectorStruct');
      }
    }
  } else {
    throw QdrantError.format('data did not match any variant of untagged enum VectorStruct');
  }
  return { dense, sparse };
}

function parsePayload(raw: JsonValue | undefined): JsonObject | undefined {
  if (raw === undefined || raw === null) return undefined;
  return expectObject(raw, 'a map (payload)');
}

const UPDATE_MODES = ['upsert', 'insert_only', 'update_only'];

/**
 * `PUT /points` body: `{points: [...]}` or `{batch: {ids, vectors, payloads}}`, with
 * `update_mode` keeping only new points (`insert_only`) or only existing ones (`update_only`).
 */
export function parseUpsertPoints(collection: Collection, raw: unknown): PointWrite[] {
  const body = expectObject(raw, 'enum PointInsertOperations');
  const writes = parsePointWrites(collection, body);
  const mode = body.update_mode ?? 'upsert';
  if (typeof mode !== 'string' || !UPDATE_MODES.includes(mode)) {
    throw QdrantError.format(
      `unknown variant \`${String(mode)}\`, expected one of ${UPDATE_MODES.map((m) => `\`${m}\``).join(', ')}`,
    );
  }
  if (mode === 'upsert') return writes;
  const wanted = mode === 'update_only';
  return writes.filter((w) => collection.points.has(w.id) === wanted);
}

function parsePointWrites(collection: Collection, body: JsonObject): PointWrite[] {
  if (Array.isArray(body.points)) {
    return body.points.map((p, i) => {
      const point = expectObject(p, 'struct PointStruct');
      if (point.id === undefined) throw QdrantError.format('missing field `id`');
      if (point.vector === undefined) throw QdrantError.format('missing field `vector`');
      const id = parsePointId(point.id);
      const { dense, sparse } = parseVectorStruct(collection, point.vector, `points[${i}].vector`);
      return { id, payload: parsePayload(point.payload), dense, sparse };
    });
  }
  if (isObject(body.batch)) {
    const batch = body.batch;
    const ids = expectArray(batch.ids).map((v) => parsePointId(v));
    const payloads =
      batch.payloads === undefined || batch.payloads === null ? [] : expectArray(batch.payloads);
    const perPoint: Array<Map<string, JsonValue>> = ids.map(() => new Map());
    if (Array.isArray(batch.vectors)) {
      if (batch.vectors.length !== ids.length) {
        throw QdrantError.wrongInput('number of ids and vectors must be equal');
      }
      batch.vectors.forEach((v, i) => perPoint[i].set(DEFAULT_VECTOR, v));
      // Float32Array vectors (parsed off-thread) pass through the map unchanged.
    } else if (isObject(batch.vectors)) {
      for (const [name, list] of Object.entries(batch.vectors)) {
        const values = expectArray(list);
        if (values.length !== ids.length)
          throw QdrantError.wrongInput('number of ids and vectors must be equal');
        values.forEach((v, i) => perPoint[i].set(name, v));
      }
    } else {
      throw QdrantError.format('missing field `vectors`');
    }
    return ids.map((id, i) => {
      const entries = perPoint[i];
      const rawVector: JsonValue =
        entries.size === 1 && entries.has(DEFAULT_VECTOR)
          ? (entries.get(DEFAULT_VECTOR) as JsonValue)
          : (Object.fromEntries(entries) as JsonObject);
      const { dense, sparse } = parseVectorStruct(collection, rawVector, `batch.vectors[${i}]`);
      return { id, payload: parsePayload(payloads[i]), dense, sparse };
    });
  }
  throw QdrantError.format('data did not match any variant of untagged enum PointInsertOperations');
}

export function filterOf(
  collection: Collection,
  raw: JsonValue | undefined,
  path = 'filter',
  purpose: FilterPurpose = 'retrieve',
): Predicate | null {
  const filter = compileFilter(raw, path, collection);
  if (filter) checkUnindexedFiltering(collection, raw, purpose);
  if (filter) filter.candidates = () => collection.indexedCandidates(raw);
  return filter;
}

/** Resolves a PointsSelector (`{points: [...]}` or `{filter}`) or a payload request's `points`/`filter`. */
export function selectIds(collection: Collection, body: JsonObject, mustExist: boolean): PointId[] {
  if (body.points !== undefined && body.points !== null) {
    const ids = expectArray(body.points).map((v) => parsePointId(v));
    if (mustExist) {
      for (const id of ids) {
        if (!collection.points.has(id)) throw QdrantError.notFound(`No point with id ${id} found`);
      }
    }
    const filter =
      body.filter === undefined ? null : filterOf(collection, body.filter, 'filter', 'update');
    return filter ? ids.filter((id) => filter(collection.points.get(id) as PointRecord)) : ids;
  }
  if (body.filter !== undefined && body.filter !== null) {
    return collection
      .select(filterOf(collection, body.filter, 'filter', 'update'))
      .map((r) => r.id);
  }
  throw QdrantError.format('data did not match any variant of untagged enum PointsSelector');
}

export type PayloadSelector = false | true | { include: string[] } | { exclude: string[] };

export function parseWithPayload(raw: JsonValue | undefined, fallback: boolean): PayloadSelector {
  if (raw === undefined || raw === null) return fallback;
  if (typeof raw === 'boolean') return raw;
  if (Array.isArray(raw)) return { include: raw.map((v) => expectString(v)) };
  if (isObject(raw)) {
    if (Array.isArray(raw.include)) return { include: raw.include.map((v) => expectString(v)) };
    if (Array.isArray(raw.exclude)) return { exclude: raw.exclude.map((v) => expectString(v)) };
  }
  throw QdrantError.format('data did not match any variant of untagged enum WithPayloadInterface');
}

export function parseWithVector(raw: JsonValue | undefined, fallback: boolean): boolean | string[] {
  if (raw === undefined || raw === null) return fallback;
  if (typeof raw === 'boolean') return raw;
  if (Array.isArray(raw)) return raw.map((v) => expectString(v));
  throw QdrantError.format('data did not match any variant of untagged enum WithVector');
}

function selectPayload(payload: JsonObject, selector: PayloadSelector): JsonValue {
  if (selector === false) return null;
  if (selector === true) return structuredClone(payload);
  if ('include' in selector) return pickPaths(payload, selector.include);
  return omitPaths(payload, selector.exclude);
}

export function formatRecord(
  collection: Collection,
  record: PointRecord,
  withPayload: PayloadSelector,
  withVector: boolean | string[],
): JsonObject {
  return {
    id: record.id,
    payload: selectPayload(record.payload, withPayload),
    vector: withVector === false ? null : collection.formatVector(record, withVector),
  };
}

/** The shortest decimal that reads back as the same float32, as Qdrant prints scores. */
export function shortestFloat32(value: number): number {
  if (!Number.isFinite(value)) return value;
  const f = Math.fround(value);
  for (let precision = 1; precision < 10; precision++) {
    const candidate = Number(f.toPrecision(precision));
    if (Math.fround(candidate) === f) return candidate;
  }
  return f;
}

export function formatScored(
  collection: Collection,
  hit: ScoredRecord,
  withPayload: PayloadSelector,
  withVector: boolean | string[],
): JsonObject {
  const out: JsonObject = {
    id: hit.record.id,
    version: hit.record.version,
    score: shortestFloat32(hit.score),
    payload: selectPayload(hit.record.payload, withPayload),
    vector: withVector === false ? null : collection.formatVector(hit.record, withVector),
  };
  if (hit.orderValue !== undefined) out.order_value = hit.orderValue;
  return out;
}

export function parseLimit(raw: JsonValue | undefined, fallback: number, path = 'limit'): number {
  if (raw === undefined || raw === null) return fallback;
  const limit = expectUint(raw);
  if (limit < 1) throw QdrantError.validation(path, `value ${limit} invalid, must be 1 or larger`);
  return limit;
}
