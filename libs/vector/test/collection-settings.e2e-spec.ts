import { randomUUID } from 'node:crypto';
import { QdrantClient } from '@qdrant/js-client-rest';
import {
  pointIdFor,
  QdrantGateway,
  VectorCollectionSettingsMismatchError,
  VectorModuleOptions,
} from '@quarry/vector';
import {
  gatewayOptions as options,
  qdrantUrl,
  TEST_DIM as DIM,
  testRun as run,
} from './live-qdrant';

/**
 * Cluster and storage settings of the collection, against whatever QDRANT_URL names (the
 * emulator the integration tier starts, or a real Qdrant). Read back with a plain client,
 * so what is asserted is what Qdrant stored, not what the gateway believes it sent.
 */

describe('collection settings for a Qdrant cluster', () => {
  const client = new QdrantClient({
    url: qdrantUrl(),
    apiKey: process.env.QDRANT_API_KEY,
    checkCompatibility: false,
  });
  const gateways: QdrantGateway[] = [];
  const collections = new Set<string>();
  const gatewayFor = (collection: string, extra: Partial<VectorModuleOptions> = {}) => {
    collections.add(collection);
    const gateway = new QdrantGateway(options(collection, extra));
    gateways.push(gateway);
    return gateway;
  };

  afterAll(async () => {
    for (const name of collections) await client.deleteCollection(name).catch(() => undefined);
    await Promise.all(gateways.map((g) => g.close()));
  });

  const clustered = {
    shardNumber: 3,
    replicationFactor: 2,
    writeConsistencyFactor: 1,
    onDiskVectors: true,
    onDiskPayload: true,
    hnswM: 24,
    hnswEfConstruct: 200,
    quantization: 'scalar' as const,
  };

  it('creates the collection with every configured setting', async () => {
    const name = `quarry_e2e_cluster_${run}`;
    await gatewayFor(name, { collectionSettings: clustered }).bootstrap();
    const info = await client.getCollection(name);
    expect(info.config.params).toMatchObject({
      shard_number: 3,
      replication_factor: 2,
      write_consistency_factor: 1,
      on_disk_payload: true,
      vectors: { size: DIM, distance: 'Cosine', on_disk: true },
    });
    expect(info.config.hnsw_config).toMatchObject({ m: 24, ef_construct: 200 });
    expect(info.config.quantization_config).toMatchObject({ scalar: { type: 'int8' } });
  });

  it('keeps Qdrant’s defaults when nothing is configured', async () => {
    const name = `quarry_e2e_defaults_${run}`;
    await gatewayFor(name).bootstrap();
    const info = await client.getCollection(name);
    expect(info.config.params).toMatchObject({ shard_number: 1, replication_factor: 1 });
    expect(info.config.quantization_config ?? null).toBeNull();
  });

  it('declares owner_id the tenant key, and upgrades an older plain index', async () => {
    const name = `quarry_e2e_tenant_${run}`;
    await client.createCollection(name, { vectors: { size: DIM, distance: 'Cosine' } });
    await client.createPayloadIndex(name, {
      field_name: 'owner_id',
      field_schema: 'keyword',
      wait: true,
    });
    await gatewayFor(name).bootstrap();
    const { payload_schema: schema } = await client.getCollection(name);
    expect(schema.owner_id).toMatchObject({ data_type: 'keyword', params: { is_tenant: true } });
    expect(schema.document_id).toMatchObject({ data_type: 'keyword' });
  });

  it('reports every setting an existing collection lacks, and stops', async () => {
    const name = `quarry_e2e_mismatch_${run}`;
    await gatewayFor(name).bootstrap();
    const error = await gatewayFor(name, {
      collectionSettings: { shardNumber: 3, hnswM: 32, quantization: 'scalar' },
    })
      .bootstrap()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VectorCollectionSettingsMismatchError);
    const message = (error as Error).message;
    expect(message).toContain('QDRANT_SHARD_NUMBER=3, but the collection has 1');
    expect(message).toContain('QDRANT_HNSW_M=32, but the collection has 16');
    expect(message).toContain('QDRANT_QUANTIZATION=scalar, but the collection has none');
    // Matching settings (and unset ones) start.
    await expect(
      gatewayFor(name, { collectionSettings: { shardNumber: 1, hnswM: 16 } }).bootstrap(),
    ).resolves.toMatchObject({ exists: true });
  });

  it.each(['weak', 'medium', 'strong'] as const)(
    'writes and deletes with ordering=%s',
    async (ordering) => {
      const name = `quarry_e2e_ordering_${run}`;
      const gateway = gatewayFor(name, { writeOrdering: ordering });
      await gateway.bootstrap();
      const documentId = randomUUID();
      const points = [0, 1].map((ordinal) => ({
        id: pointIdFor(documentId, 1, ordinal),
        vector: new Float32Array(DIM).fill(ordinal + 1),
        payload: {
          document_id: documentId,
          owner_id: 'o',
          collection_id: 'c',
          generation: 1,
          ordinal,
        },
      }));
      await gateway.upsertChunks(points);
      await expect(gateway.countByDocument(documentId)).resolves.toBe(2);
      await gateway.deletePoints([points[0].id]);
      await expect(gateway.countByDocument(documentId)).resolves.toBe(1);
      await gateway.deleteByDocument(documentId);
      await expect(gateway.countByDocument(documentId)).resolves.toBe(0);
    },
  );
});
