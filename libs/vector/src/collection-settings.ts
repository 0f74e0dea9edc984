import type { Schemas } from '@qdrant/js-client-rest';

/**
 * How the collection is laid out across a Qdrant cluster and on each node. A field left
 * out keeps Qdrant's own default, so a single node behaves as before. Validated by
 * libs/config at start-up; compared with an existing collection by `settingsMismatches`.
 */
export interface VectorCollectionSettings {
  /** QDRANT_SHARD_NUMBER: fixed at creation */
  shardNumber?: number;
  /** QDRANT_REPLICATION_FACTOR: copies of each shard */
  replicationFactor?: number;
  /** QDRANT_WRITE_CONSISTENCY_FACTOR: replicas that must acknowledge a write */
  writeConsistencyFactor?: number;
  /** QDRANT_ON_DISK_VECTORS: original vectors memory-mapped instead of in RAM */
  onDiskVectors?: boolean;
  /** QDRANT_ON_DISK_PAYLOAD */
  onDiskPayload?: boolean;
  /** QDRANT_HNSW_M */
  hnswM?: number;
  /** QDRANT_HNSW_EF_CONSTRUCT */
  hnswEfConstruct?: number;
  /** QDRANT_QUANTIZATION: `scalar` keeps an int8 copy in RAM and rescores with the originals */
  quantization?: 'none' | 'scalar';
}

/** How replicas order concurrent writes to the same points (QDRANT_WRITE_ORDERING). */
export type WriteOrdering = Schemas['WriteOrdering'];

const SCALAR_INT8: Schemas['QuantizationConfig'] = {
  scalar: { type: 'int8', quantile: 0.99, always_ram: true },
};

/** The body of PUT /collections/{name}: only what was configured, Qdrant's defaults otherwise. */
export function createCollectionBody(
  dimension: number,
  settings: VectorCollectionSettings,
): Schemas['CreateCollection'] {
  const body: Schemas['CreateCollection'] = {
    vectors: {
      size: dimension,
      distance: 'Cosine',
      ...(settings.onDiskVectors !== undefined && { on_disk: settings.onDiskVectors }),
    },
  };
  if (settings.shardNumber !== undefined) body.shard_number = settings.shardNumber;
  if (settings.replicationFactor !== undefined)
    body.replication_factor = settings.replicationFactor;
  if (settings.writeConsistencyFactor !== undefined)
    body.write_consistency_factor = settings.writeConsistencyFactor;
  if (settings.onDiskPayload !== undefined) body.on_disk_payload = settings.onDiskPayload;
  if (settings.hnswM !== undefined || settings.hnswEfConstruct !== undefined) {
    body.hnsw_config = {
      ...(settings.hnswM !== undefined && { m: settings.hnswM }),
      ...(settings.hnswEfConstruct !== undefined && { ef_construct: settings.hnswEfConstruct }),
    };
  }
  if (settings.quantization === 'scalar') body.quantization_config = SCALAR_INT8;
  return body;
}

/**
 * Each configured setting the existing collection does not have, as
 * `QDRANT_X=configured, but the collection has found`. Settings left unset are not compared.
 */
export function settingsMismatches(
  info: Schemas['CollectionInfo'],
  settings: VectorCollectionSettings,
): string[] {
  const { params, hnsw_config: hnsw, quantization_config: quantization } = info.config;
  const vectors = params.vectors as { on_disk?: boolean | null } | undefined;
  const found: [string, unknown, unknown][] = [
    ['QDRANT_SHARD_NUMBER', settings.shardNumber, params.shard_number ?? 1],
    ['QDRANT_REPLICATION_FACTOR', settings.replicationFactor, params.replication_factor ?? 1],
    [
      'QDRANT_WRITE_CONSISTENCY_FACTOR',
      settings.writeConsistencyFactor,
      params.write_consistency_factor ?? 1,
    ],
    ['QDRANT_ON_DISK_VECTORS', settings.onDiskVectors, vectors?.on_disk ?? false],
    ['QDRANT_ON_DISK_PAYLOAD', settings.onDiskPayload, params.on_disk_payload ?? true],
    ['QDRANT_HNSW_M', settings.hnswM, hnsw.m],
    ['QDRANT_HNSW_EF_CONSTRUCT', settings.hnswEfConstruct, hnsw.ef_construct],
    [
      'QDRANT_QUANTIZATION',
      settings.quantization,
      quantization && 'scalar' in quantization ? 'scalar' : quantization ? 'other' : 'none',
    ],
  ];
  return found
    .filter(([, configured, actual]) => configured !== undefined && configured !== actual)
    .map(
      ([name, configured, actual]) =>
        `${name}=${String(configured)}, but the collection has ${String(actual)}`,
    );
}
