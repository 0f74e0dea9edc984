import { Distance } from './dense-vector-store';
import {
  expectObject,
  expectUint,
  invalidType,
  isObject,
  JsonObject,
  JsonValue,
} from './json-value';
import { QdrantError } from './qdrant-error';

/** The collection's configuration as `GET /collections/{name}` reports it. */
export interface CollectionConfigJson {
  params: JsonObject;
  hnsw_config: JsonObject;
  optimizer_config: JsonObject;
  wal_config: JsonObject;
  quantization_config: JsonValue;
  strict_mode_config: JsonObject;
  metadata?: JsonObject;
}

export interface DenseVectorParams {
  size: number;
  distance: Distance;
}

const DISTANCES: Distance[] = ['Cosine', 'Euclid', 'Dot', 'Manhattan'];

/** Name used for the single unnamed vector. */
export const DEFAULT_VECTOR = '';

function parseVectorParams(raw: JsonValue, path: string): JsonObject {
  const params = expectObject(raw, 'struct VectorParams');
  if (params.size === undefined) throw QdrantError.format('missing field `size`');
  if (params.distance === undefined) throw QdrantError.format('missing field `distance`');
  const size = expectUint(params.size, 'u64');
  if (typeof params.distance !== 'string' || !DISTANCES.includes(params.distance as Distance)) {
    if (typeof params.distance !== 'string') throw invalidType(params.distance, 'enum Distance');
    throw QdrantError.format(
      `unknown variant \`${params.distance}\`, expected one of \`Cosine\`, \`Euclid\`, \`Dot\`, \`Manhattan\``,
    );
  }
  if (size < 1)
    throw QdrantError.validation(`${path}.size`, `value ${size} invalid, must be 1 or larger`);
  if (size > 65536) {
    throw QdrantError.validation(`${path}.size`, `value ${size} invalid, must be from 1 to 65536`);
  }
  return structuredClone(params);
}

function isVectorParams(raw: JsonValue): boolean {
  return isObject(raw) && ('size' in raw || 'distance' in raw);
}

function withDefaults(
  defaults: JsonObject,
  given: JsonValue | undefined,
  field: string,
): JsonObject {
  if (given === undefined || given === null) return { ...defaults };
  const diff = expectObject(given, `struct ${field}`);
  for (const value of Object.values(diff)) {
    if (typeof value === 'number' && value < 0) {
      throw QdrantError.format(`invalid value: integer \`${value}\`, expected usize`);
    }
  }
  return { ...defaults, ...structuredClone(diff) };
}

export function parseCreateCollection(body: unknown): CollectionConfigJson {
  const req =
    body === undefined || body === null ? {} : expectObject(body, 'struct CreateCollection');
  const params: JsonObject = {};
  if (req.vectors !== undefined && req.vectors !== null) {
    if (isVectorParams(req.vectors)) {
      params.vectors = parseVectorParams(req.vectors, 'vectors');
    } else {
      const named = expectObject(req.vectors, 'enum VectorsConfig');
      const out: JsonObject = {};
      for (const [name, value] of Object.entries(named))
        out[name] = parseVectorParams(value, `vectors.${name}`);
      params.vectors = out;
    }
  } else {
    params.vectors = {};
  }
  params.shard_number = req.shard_number === undefined ? 1 : expectUint(req.shard_number, 'u32');
  params.replication_factor =
    req.replication_factor === undefined ? 1 : expectUint(req.replication_factor, 'u32');
  params.write_consistency_factor =
    req.write_consistency_factor === undefined
      ? 1
      : expectUint(req.write_consistency_factor, 'u32');
  params.on_disk_payload =
    req.on_disk_payload === undefined ? true : (req.on_disk_payload as boolean);
  if (req.sparse_vectors !== undefined && req.sparse_vectors !== null) {
    const sparse = expectObject(req.sparse_vectors, 'a map of sparse vector params');
    const out: JsonObject = {};
    for (const [name, value] of Object.entries(sparse))
      out[name] = structuredClone(expectObject(value));
    params.sparse_vectors = out;
  }
  const walConfig = withDefaults(
    { wal_capacity_mb: 32, wal_segments_ahead: 0, wal_retain_closed: 1 },
    req.wal_config,
    'WalConfigDiff',
  );
  if (walConfig.wal_capacity_mb === 0) {
    throw QdrantError.validation(
      'wal_config.wal_capacity_mb',
      'value 0 invalid, must be 1 or larger',
    );
  }
  const config: CollectionConfigJson = {
    params,
    hnsw_config: withDefaults(
      {
        m: 16,
        ef_construct: 100,
        full_scan_threshold: 10000,
        max_indexing_threads: 0,
        on_disk: false,
      },
      req.hnsw_config,
      'HnswConfigDiff',
    ),
    optimizer_config: withDefaults(
      {
        deleted_threshold: 0.2,
        vacuum_min_vector_number: 1000,
        default_segment_number: 0,
        max_segment_size: null,
        memmap_threshold: null,
        indexing_threshold: 10000,
        flush_interval_sec: 5,
        max_optimization_threads: null,
      },
      req.optimizers_config,
      'OptimizersConfigDiff',
    ),
    wal_config: walConfig,
    quantization_config:
      req.quantization_config === undefined ? null : structuredClone(req.quantization_config),
    strict_mode_config: withDefaults(
      { enabled: false },
      req.strict_mode_config,
      'StrictModeConfig',
    ),
  };
  if (isObject(req.metadata)) config.metadata = structuredClone(req.metadata);
  return config;
}

/** Applies `PATCH /collections/{name}`: optimizer, hnsw and metadata changes are kept and reported. */
export function patchCollectionConfig(config: CollectionConfigJson, patch: JsonObject): void {
  if (isObject(patch.optimizers_config))
    Object.assign(config.optimizer_config, patch.optimizers_config);
  if (isObject(patch.hnsw_config)) Object.assign(config.hnsw_config, patch.hnsw_config);
  if (isObject(patch.params)) Object.assign(config.params, patch.params);
  if (isObject(patch.strict_mode_config))
    Object.assign(config.strict_mode_config, patch.strict_mode_config);
  if (patch.quantization_config !== undefined)
    config.quantization_config = patch.quantization_config;
  if (isObject(patch.metadata)) config.metadata = { ...(config.metadata ?? {}), ...patch.metadata };
  if (isObject(patch.vectors) && isObject(config.params.vectors)) {
    const vectors = config.params.vectors;
    for (const [name, diff] of Object.entries(patch.vectors)) {
      const target = name === '' && isVectorParams(vectors) ? vectors : vectors[name];
      if (isObject(target) && isObject(diff)) Object.assign(target, diff);
    }
  }
}

/** Dense vector names and params; the unnamed vector is under DEFAULT_VECTOR. */
export function denseVectorsOf(config: CollectionConfigJson): Map<string, DenseVectorParams> {
  const out = new Map<string, DenseVectorParams>();
  const vectors = config.params.vectors;
  if (isVectorParams(vectors as JsonValue)) {
    const v = vectors as JsonObject;
    out.set(DEFAULT_VECTOR, { size: v.size as number, distance: v.distance as Distance });
  } else if (isObject(vectors)) {
    for (const [name, value] of Object.entries(vectors)) {
      const v = value as JsonObject;
      out.set(name, { size: v.size as number, distance: v.distance as Distance });
    }
  }
  return out;
}

export function sparseVectorsOf(config: CollectionConfigJson): Set<string> {
  return new Set(
    isObject(config.params.sparse_vectors) ? Object.keys(config.params.sparse_vectors) : [],
  );
}

export function hasUnnamedVector(config: CollectionConfigJson): boolean {
  return isVectorParams(config.params.vectors as JsonValue);
}
