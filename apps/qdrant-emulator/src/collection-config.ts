import { Distance } from './dense-vector-store';
import {
  expectBool,
  expectNumber,
  expectObject,
  expectUint,
  invalidType,
  isObject,
  JsonObject,
  JsonValue,
} from './json-value';
import { QdrantError } from './qdrant-error';
import { unsupportedFeature } from './unsupported-routes';

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

/** Qdrant's range validation message: `value 2 invalid, must be 4 or larger`. */
function checkRange(value: number, path: string, min: number, max?: number): void {
  if (value >= min && (max === undefined || value <= max)) return;
  const rule = max === undefined ? `must be ${min} or larger` : `must be from ${min} to ${max}`;
  throw QdrantError.validation(path, `value ${value} invalid, ${rule}`);
}

function optionalBool(value: JsonValue | undefined): void {
  if (value !== undefined && value !== null) expectBool(value);
}

const SCALAR_TYPES = ['int8'];
const PRODUCT_COMPRESSIONS = ['x4', 'x8', 'x16', 'x32', 'x64'];
const BINARY_ENCODINGS = ['one_bit', 'two_bits', 'one_and_half_bits'];

function oneOf(value: JsonValue | undefined, allowed: string[]): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'string' || !allowed.includes(value)) {
    throw QdrantError.format(
      `unknown variant \`${String(value)}\`, expected one of ${allowed.map((a) => `\`${a}\``).join(', ')}`,
    );
  }
}

/**
 * Validates a quantization config as Qdrant does. The emulator keeps and reports it, and
 * searches the original vectors, as Qdrant does when asked to rescore.
 */
export function parseQuantization(raw: JsonValue | undefined, path: string): JsonValue {
  if (raw === undefined || raw === null) return null;
  const config = expectObject(raw, 'enum QuantizationConfig');
  const kinds = Object.keys(config);
  if (kinds.length !== 1 || !['scalar', 'product', 'binary'].includes(kinds[0]))
    throw QdrantError.format('data did not match any variant of untagged enum QuantizationConfig');
  const kind = kinds[0];
  const body = expectObject(config[kind], `struct ${kind}`);
  optionalBool(body.always_ram);
  if (kind === 'scalar') {
    if (body.type === undefined) throw QdrantError.format('missing field `type`');
    oneOf(body.type, SCALAR_TYPES);
    if (body.quantile !== undefined && body.quantile !== null)
      checkRange(expectNumber(body.quantile), `${path}.scalar.quantile`, 0.5, 1);
  } else if (kind === 'product') {
    if (body.compression === undefined) throw QdrantError.format('missing field `compression`');
    oneOf(body.compression, PRODUCT_COMPRESSIONS);
  } else {
    oneOf(body.encoding, BINARY_ENCODINGS);
  }
  return structuredClone(config);
}

/** HNSW settings are kept and reported (search is exact); their bounds are Qdrant's. */
function checkHnsw(raw: JsonValue | undefined, path: string): void {
  if (!isObject(raw)) return;
  if (typeof raw.ef_construct === 'number') checkRange(raw.ef_construct, `${path}.ef_construct`, 4);
  if (typeof raw.full_scan_threshold === 'number')
    checkRange(raw.full_scan_threshold, `${path}.full_scan_threshold`, 10);
  optionalBool(raw.on_disk);
}

function parseVectorParams(raw: JsonValue, path: string): JsonObject {
  const params = expectObject(raw, 'struct VectorParams');
  if (params.multivector_config !== undefined && params.multivector_config !== null)
    throw unsupportedFeature('Multivectors');
  optionalBool(params.on_disk);
  checkHnsw(params.hnsw_config, `${path}.hnsw_config`);
  if (params.quantization_config !== undefined)
    parseQuantization(params.quantization_config, `${path}.quantization_config`);
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
  // A single node keeps every shard and reports the settings as given, as Qdrant does.
  for (const key of ['shard_number', 'replication_factor', 'write_consistency_factor']) {
    const value = req[key] === undefined || req[key] === null ? 1 : expectUint(req[key], 'u32');
    checkRange(value, key, 1);
    params[key] = value;
  }
  if (req.sharding_method !== undefined && req.sharding_method !== null) {
    oneOf(req.sharding_method, ['auto', 'custom']);
    if (req.sharding_method === 'custom') throw unsupportedFeature('Custom sharding');
  }
  checkHnsw(req.hnsw_config, 'hnsw_config');
  optionalBool(req.on_disk_payload);
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
    quantization_config: parseQuantization(req.quantization_config, 'quantization_config'),
    strict_mode_config: withDefaults(
      { enabled: false },
      req.strict_mode_config,
      'StrictModeConfig',
    ),
  };
  if (isObject(req.metadata)) config.metadata = structuredClone(req.metadata);
  return config;
}

/** Refuses a `PATCH /collections/{name}` body that Qdrant refuses, before it is logged. */
export function validateCollectionPatch(patch: JsonObject): void {
  checkHnsw(patch.hnsw_config, 'hnsw_config');
  if (patch.quantization_config !== 'Disabled')
    parseQuantization(patch.quantization_config, 'quantization_config');
  if (isObject(patch.params)) {
    for (const key of ['replication_factor', 'write_consistency_factor']) {
      const value = patch.params[key];
      if (value !== undefined && value !== null)
        checkRange(expectUint(value, 'u32'), `params.${key}`, 1);
    }
  }
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
