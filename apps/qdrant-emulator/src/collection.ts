import {
  CollectionConfigJson,
  DEFAULT_VECTOR,
  denseVectorsOf,
  hasUnnamedVector,
  patchCollectionConfig,
  sparseVectorsOf,
} from './collection-config';
import { DenseVectorStore } from './dense-vector-store';
import { candidatesOf, FilterContext, FilterTarget, Predicate } from './filter-evaluator';
import { isObject, JsonObject, JsonValue } from './json-value';
import { deleteAt, fieldValues, mergeAt, parsePath } from './payload-path';
import { comparePointIds, PointId } from './point-id';
import { QdrantError } from './qdrant-error';
import { SparseVector, UpdateOperation } from './update-operation';

const VALUE_INDEX_TYPES = new Set(['keyword', 'integer', 'uuid', 'bool']);
const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface FacetHit {
  value: JsonValue;
  count: number;
}

/** The values a facet over an index of this type counts, in the form Qdrant prints them. */
function facetValueOf(type: string): (value: JsonValue) => JsonValue | undefined {
  switch (type) {
    case 'keyword':
      return (v) => (typeof v === 'string' ? v : undefined);
    case 'integer':
      return (v) => (Number.isInteger(v) ? v : undefined);
    case 'bool':
      return (v) => (typeof v === 'boolean' ? v : undefined);
    default:
      return (v) => (typeof v === 'string' && UUID_TEXT.test(v) ? v.toLowerCase() : undefined);
  }
}

/** Count descending, then value ascending, as Qdrant orders facet hits. */
function compareFacetHits(a: FacetHit, b: FacetHit): number {
  if (a.count !== b.count) return b.count - a.count;
  const x = a.value as string | number | boolean;
  const y = b.value as string | number | boolean;
  return x < y ? -1 : x > y ? 1 : 0;
}
const PLAIN_KEY = /^[^.[\]"]+$/;

function indexableValues(value: JsonValue | undefined): JsonValue[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.filter(
    (v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean',
  );
}

/** One stored point. Implements FilterTarget so filters evaluate it directly. */
export class PointRecord implements FilterTarget {
  payload: JsonObject = {};
  version = 0;
  readonly dense = new Map<string, number>();
  readonly sparse = new Map<string, SparseVector>();

  constructor(readonly id: PointId) {}

  hasVector(name: string): boolean {
    return this.dense.has(name) || this.sparse.has(name);
  }
}

export interface ScoredRecord {
  record: PointRecord;
  score: number;
  /** The payload value an `order_by` query ordered by. */
  orderValue?: number;
}

interface DenseIndex {
  store: DenseVectorStore;
  owners: Array<PointRecord | undefined>;
}

/** In-memory state of one collection. Mutations arrive only through apply(). */
export class Collection implements FilterContext {
  readonly points = new Map<PointId, PointRecord>();
  readonly dense = new Map<string, DenseIndex>();
  readonly sparseNames: Set<string>;
  readonly unnamed: boolean;
  readonly indexes = new Map<string, JsonObject>();
  private readonly valueIndexes = new Map<string, Map<JsonValue, Set<PointRecord>>>();
  lastOpId = -1;
  private sortedCache: PointRecord[] | null = null;

  constructor(
    readonly name: string,
    readonly config: CollectionConfigJson,
  ) {
    for (const [vectorName, params] of denseVectorsOf(config)) {
      this.dense.set(vectorName, {
        store: new DenseVectorStore(params.size, params.distance),
        owners: [],
      });
    }
    this.sparseNames = sparseVectorsOf(config);
    this.unnamed = hasUnnamedVector(config);
  }

  /** Strict mode's `max_query_limit`, enforced on reads that take a limit, as Qdrant does. */
  checkQueryLimit(limit: number): void {
    const strict = this.config.strict_mode_config;
    const max = strict.max_query_limit;
    if (strict.enabled !== true || typeof max !== 'number' || limit <= max) return;
    throw QdrantError.badRequest(
      `Limit exceeded ${limit} > ${max} for "limit". Help: Reduce the "limit" parameter to or below ${max}.`,
    );
  }

  textIndexed(key: string): boolean {
    const index = this.indexes.get(key);
    return index !== undefined && index.data_type === 'text';
  }

  /** Points in id order (scroll order); cached until a point is added or removed. */
  sorted(): PointRecord[] {
    if (!this.sortedCache) {
      this.sortedCache = [...this.points.values()].sort((a, b) => comparePointIds(a.id, b.id));
    }
    return this.sortedCache;
  }

  /** Points matching a filter, in id order; uses the filter's index candidates when it has them. */
  select(filter: Predicate | null): PointRecord[] {
    if (!filter) return this.sorted();
    const candidates = candidatesOf<PointRecord>(filter);
    if (candidates) {
      return candidates.filter((p) => filter(p)).sort((a, b) => comparePointIds(a.id, b.id));
    }
    return this.sorted().filter((p) => filter(p));
  }

  /**
   * Points per value of an indexed keyword/integer/uuid/bool key, each point counted once per
   * distinct value. Without a filter a top-level key is read straight from its value index.
   */
  facet(key: string, filter: Predicate | null, limit: number): FacetHit[] {
    const type = String(this.indexes.get(key)?.data_type ?? '');
    if (!VALUE_INDEX_TYPES.has(type)) {
      throw QdrantError.badRequest(
        `Index required but not found for "${key}" of one of the following types: [keyword, integer, uuid, bool]. Help: Create an index for this key or use a different filter.`,
      );
    }
    const valueOf = facetValueOf(type);
    const counts = new Map<JsonValue, number>();
    const index = filter ? undefined : this.valueIndexes.get(key);
    if (index) {
      for (const [raw, records] of index) {
        const value = valueOf(raw);
        if (value !== undefined) counts.set(value, (counts.get(value) ?? 0) + records.size);
      }
    } else {
      const segments = parsePath(key);
      const seen = new Set<JsonValue>();
      for (const record of this.select(filter)) {
        seen.clear();
        for (const raw of fieldValues(record.payload, segments)) {
          const value = valueOf(raw);
          if (value !== undefined) seen.add(value);
        }
        for (const value of seen) counts.set(value, (counts.get(value) ?? 0) + 1);
      }
    }
    return [...counts]
      .map(([value, count]) => ({ value, count }))
      .sort(compareFacetHits)
      .slice(0, limit);
  }

  apply(opId: number, op: UpdateOperation): void {
    this.lastOpId = Math.max(this.lastOpId, opId);
    switch (op.type) {
      case 'upsert':
      case 'update_vectors':
        for (const write of op.points) {
          let record = this.points.get(write.id);
          if (!record) {
            if (op.type === 'update_vectors') continue;
            record = new PointRecord(write.id);
            this.points.set(write.id, record);
            this.sortedCache = null;
          } else if (op.type === 'upsert') {
            this.dropVectors(record, [...record.dense.keys()]);
            record.sparse.clear();
            this.unindexRecord(record);
          }
          if (op.type === 'upsert') {
            // The operation owns its payload (freshly parsed or decoded), so no copy is needed.
            record.payload = write.payload ?? {};
            this.indexRecord(record);
          }
          for (const [name, vector] of write.dense) {
            const index = this.dense.get(name);
            if (!index) continue;
            let slot = record.dense.get(name);
            if (slot === undefined) {
              slot = index.store.allocate();
              record.dense.set(name, slot);
              index.owners[slot] = record;
            }
            index.store.write(slot, vector);
          }
          for (const [name, vector] of write.sparse) record.sparse.set(name, vector);
          record.version = opId;
        }
        return;
      case 'delete':
        for (const id of op.ids) {
          const record = this.points.get(id);
          if (!record) continue;
          this.dropVectors(record, [...record.dense.keys()]);
          this.unindexRecord(record);
          this.points.delete(id);
          this.sortedCache = null;
        }
        return;
      case 'delete_vectors':
        this.each(op.ids, opId, (record) => {
          this.dropVectors(
            record,
            op.names.filter((n) => record.dense.has(n)),
          );
          for (const name of op.names) record.sparse.delete(name);
        });
        return;
      case 'set_payload':
        this.each(op.ids, opId, (record) => {
          if (op.key === undefined) Object.assign(record.payload, structuredClone(op.payload));
          else mergeAt(record.payload, parsePath(op.key), op.payload);
        });
        return;
      case 'overwrite_payload':
        this.each(op.ids, opId, (record) => {
          record.payload = structuredClone(op.payload);
        });
        return;
      case 'delete_payload':
        this.each(op.ids, opId, (record) => {
          for (const key of op.keys) deleteAt(record.payload, parsePath(key));
        });
        return;
      case 'clear_payload':
        this.each(op.ids, opId, (record) => {
          record.payload = {};
        });
        return;
      case 'create_index': {
        const schema = op.schema;
        const dataType =
          typeof schema === 'string' ? schema : isObject(schema) ? String(schema.type) : 'keyword';
        const info: JsonObject = { data_type: dataType };
        if (isObject(schema)) info.params = structuredClone(schema);
        this.indexes.set(op.field, info);
        this.rebuildValueIndexes();
        return;
      }
      case 'delete_index':
        this.indexes.delete(op.field);
        this.rebuildValueIndexes();
        return;
      case 'update_config':
        patchCollectionConfig(this.config, op.patch);
        return;
    }
  }

  /** Applies a change to each existing point, keeping the value indexes in step with payloads. */
  private each(ids: PointId[], opId: number, fn: (record: PointRecord) => void): void {
    for (const id of ids) {
      const record = this.points.get(id);
      if (!record) continue;
      this.unindexRecord(record);
      fn(record);
      this.indexRecord(record);
      record.version = opId;
    }
  }

  /** Rebuilds the value → points maps of indexed keyword/integer/uuid/bool top-level fields. */
  rebuildValueIndexes(): void {
    this.valueIndexes.clear();
    for (const [field, info] of this.indexes) {
      if (VALUE_INDEX_TYPES.has(String(info.data_type)) && PLAIN_KEY.test(field)) {
        this.valueIndexes.set(field, new Map());
      }
    }
    if (this.valueIndexes.size === 0) return;
    for (const record of this.points.values()) this.indexRecord(record);
  }

  private indexRecord(record: PointRecord): void {
    for (const [field, map] of this.valueIndexes) {
      for (const value of indexableValues(record.payload[field])) {
        let set = map.get(value);
        if (!set) map.set(value, (set = new Set()));
        set.add(record);
      }
    }
  }

  private unindexRecord(record: PointRecord): void {
    for (const [field, map] of this.valueIndexes) {
      for (const value of indexableValues(record.payload[field])) {
        const set = map.get(value);
        if (!set) continue;
        set.delete(record);
        if (set.size === 0) map.delete(value);
      }
    }
  }

  /**
   * A superset of the points a filter can match, from the value indexes: the smallest set
   * among its top-level `must` conditions of the form `{key, match: {value | any}}` on an
   * indexed field. Null when no such condition exists (the caller scans everything).
   */
  indexedCandidates(raw: unknown): PointRecord[] | null {
    if (
      this.valueIndexes.size === 0 ||
      !isObject(raw) ||
      raw.must === undefined ||
      raw.must === null
    )
      return null;
    const must = Array.isArray(raw.must) ? raw.must : [raw.must];
    let best: PointRecord[] | null = null;
    for (const condition of must) {
      if (!isObject(condition) || typeof condition.key !== 'string' || !isObject(condition.match))
        continue;
      const map = this.valueIndexes.get(condition.key);
      if (!map) continue;
      let found: PointRecord[];
      if ('value' in condition.match) {
        found = [...(map.get(condition.match.value) ?? [])];
      } else if (Array.isArray(condition.match.any)) {
        const union = new Set<PointRecord>();
        for (const value of condition.match.any) for (const r of map.get(value) ?? []) union.add(r);
        found = [...union];
      } else continue;
      if (!best || found.length < best.length) best = found;
    }
    return best;
  }

  private dropVectors(record: PointRecord, names: string[]): void {
    for (const name of names) {
      const slot = record.dense.get(name);
      const index = this.dense.get(name);
      if (slot === undefined || !index) continue;
      index.store.release(slot);
      index.owners[slot] = undefined;
      record.dense.delete(name);
    }
  }

  readDense(record: PointRecord, name: string): number[] | undefined {
    const slot = record.dense.get(name);
    const index = this.dense.get(name);
    return slot === undefined || !index ? undefined : index.store.read(slot);
  }

  /** The vector output of a Record/ScoredPoint: a bare array for the unnamed vector, a map otherwise. */
  formatVector(record: PointRecord, names: string[] | true): JsonValue {
    if (this.unnamed && this.sparseNames.size === 0 && this.dense.size === 1) {
      if (names !== true && !names.includes(DEFAULT_VECTOR)) return {};
      return this.readDense(record, DEFAULT_VECTOR) ?? {};
    }
    const out: JsonObject = {};
    for (const name of record.dense.keys()) {
      if (names === true || names.includes(name)) out[name] = this.readDense(record, name) ?? [];
    }
    for (const [name, sv] of record.sparse) {
      if (names === true || names.includes(name))
        out[name] = { indices: [...sv.indices], values: [...sv.values] };
    }
    // Qdrant prints a lone unnamed vector as the plain array, never as `{"": [...]}`.
    const keys = Object.keys(out);
    return keys.length === 1 && keys[0] === DEFAULT_VECTOR ? out[DEFAULT_VECTOR] : out;
  }

  searchDense(
    name: string,
    query: Float32Array,
    k: number,
    filter: Predicate | null,
    scoreThreshold: number | undefined,
    exclude?: PointId,
  ): ScoredRecord[] {
    const index = this.dense.get(name);
    if (!index) throw QdrantError.wrongInput(`Not existing vector name error: ${name}`);
    const owners = index.owners;
    const excludeRecord = exclude === undefined ? undefined : this.points.get(exclude);
    const candidates = filter ? candidatesOf<PointRecord>(filter) : null;
    const found = index.store.search(query, {
      k,
      accept: filter ? (slot) => filter(owners[slot] as PointRecord) : undefined,
      candidateSlots: candidates
        ? candidates.map((r) => r.dense.get(name)).filter((s): s is number => s !== undefined)
        : undefined,
      scoreThreshold,
      excludeSlot: excludeRecord?.dense.get(name),
      tieBreak: (a, b) =>
        comparePointIds((owners[a] as PointRecord).id, (owners[b] as PointRecord).id),
    });
    return found.map(({ slot, score }) => ({ record: owners[slot] as PointRecord, score }));
  }

  searchSparse(
    name: string,
    query: SparseVector,
    k: number,
    filter: Predicate | null,
    scoreThreshold: number | undefined,
    exclude?: PointId,
  ): ScoredRecord[] {
    if (!this.sparseNames.has(name))
      throw QdrantError.wrongInput(`Not existing vector name error: ${name}`);
    const weights = new Map<number, number>();
    query.indices.forEach((index, i) => weights.set(index, query.values[i]));
    const found: ScoredRecord[] = [];
    for (const record of this.points.values()) {
      const sv = record.sparse.get(name);
      if (!sv || record.id === exclude || (filter && !filter(record))) continue;
      let score = 0;
      let overlap = false;
      for (let i = 0; i < sv.indices.length; i++) {
        const w = weights.get(sv.indices[i]);
        if (w !== undefined) {
          score += w * sv.values[i];
          overlap = true;
        }
      }
      score = Math.fround(score);
      if (!overlap || (scoreThreshold !== undefined && score < scoreThreshold)) continue;
      found.push({ record, score });
    }
    found.sort((a, b) =>
      a.score === b.score ? comparePointIds(a.record.id, b.record.id) : b.score - a.score,
    );
    return found.slice(0, k);
  }

  payloadSchema(): JsonObject {
    const out: JsonObject = {};
    for (const [field, info] of this.indexes) {
      const segments = parsePath(field);
      let points = 0;
      for (const record of this.points.values()) {
        if (fieldValues(record.payload, segments).some((v) => v !== null)) points++;
      }
      out[field] = { ...info, points };
    }
    return out;
  }

  info(): JsonObject {
    const vectorsCount = this.points.size;
    return {
      status: 'green',
      optimizer_status: 'ok',
      indexed_vectors_count: 0,
      points_count: vectorsCount,
      segments_count: 1,
      config: structuredClone(this.config) as unknown as JsonObject,
      payload_schema: this.payloadSchema(),
    };
  }
}
