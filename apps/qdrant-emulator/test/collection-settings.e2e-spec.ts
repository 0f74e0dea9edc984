import { QdrantFixture, useQdrantFixture } from './qdrant-fixture';

describe('collection settings, payload index types and update modes', () => {
  const fixture = useQdrantFixture();
  let q: QdrantFixture;
  beforeAll(() => {
    q = fixture();
  });

  it('accepts cluster, HNSW and quantization settings and reports them as a single node', async () => {
    const name = q.collectionName('settings');
    await expect(
      q.client.createCollection(name, {
        vectors: { size: 4, distance: 'Cosine', on_disk: true },
        shard_number: 2,
        replication_factor: 1,
        write_consistency_factor: 1,
        on_disk_payload: true,
        hnsw_config: { m: 32, ef_construct: 200, on_disk: true },
        quantization_config: { scalar: { type: 'int8', quantile: 0.99, always_ram: true } },
      }),
    ).resolves.toBe(true);
    const info = await q.client.getCollection(name);
    expect(info.config.params).toMatchObject({
      shard_number: 2,
      replication_factor: 1,
      write_consistency_factor: 1,
      on_disk_payload: true,
    });
    expect(info.config.hnsw_config).toMatchObject({ m: 32, ef_construct: 200, on_disk: true });
    expect(info.config.quantization_config).toEqual({
      scalar: { type: 'int8', quantile: 0.99, always_ram: true },
    });
    await q.client.upsert(name, { wait: true, points: [{ id: 1, vector: [1, 0, 0, 0] }] });
    const found = await q.client.query(name, { query: [1, 0, 0, 0] });
    expect(found.points.map((p) => p.id)).toEqual([1]);
  });

  it('reports cluster mode as disabled, as a single Qdrant node does', async () => {
    const res = await q.raw('GET', '/cluster');
    expect(res.status).toBe(200);
    expect(res.body.result).toEqual({ status: 'disabled' });
  });

  it('refuses out-of-range and unknown settings as Qdrant does', async () => {
    const cases: Array<[Record<string, unknown>, number, RegExp]> = [
      [{ shard_number: 0 }, 422, /^Validation error in JSON body: \[shard_number: /],
      [
        { hnsw_config: { ef_construct: 2 } },
        422,
        /^Validation error in JSON body: \[hnsw_config\.ef_construct: /,
      ],
      [
        { quantization_config: { scalar: { type: 'int8', quantile: 0.2 } } },
        422,
        /^Validation error in JSON body: \[quantization_config\.scalar\.quantile: /,
      ],
      [{ quantization_config: { scalar: { type: 'int4' } } }, 400, /^Format error in JSON body: /],
      [
        { quantization_config: { product: { compression: 'x3' } } },
        400,
        /^Format error in JSON body: /,
      ],
    ];
    for (const [settings, status, message] of cases) {
      const name = q.collectionName('badsettings');
      const res = await q.raw(
        'PUT',
        `/collections/${name}`,
        { vectors: { size: 4, distance: 'Dot' }, ...settings },
        { invalidRequest: true },
      );
      expect([JSON.stringify(settings), res.status]).toEqual([JSON.stringify(settings), status]);
      expect(res.body.status.error).toMatch(message);
      await expect(q.client.collectionExists(name)).resolves.toEqual({ exists: false });
    }
  });

  it('creates a payload index of every schema type, plain and with parameters', async () => {
    const name = q.collectionName('indexes');
    await q.client.createCollection(name, { vectors: { size: 2, distance: 'Dot' } });
    const plain = ['keyword', 'integer', 'float', 'geo', 'text', 'bool', 'datetime', 'uuid'];
    for (const type of plain) {
      const res = await q.raw('PUT', `/collections/${name}/index?wait=true`, {
        field_name: `plain_${type}`,
        field_schema: type,
      });
      expect([type, res.status, res.body.result.status]).toEqual([type, 200, 'completed']);
    }
    const typed: Array<Record<string, unknown>> = [
      { type: 'keyword', is_tenant: true, on_disk: true },
      { type: 'integer', lookup: true, range: false, is_principal: true },
      { type: 'float', is_principal: true, on_disk: false },
      { type: 'geo' },
      { type: 'text', tokenizer: 'word', min_token_len: 2, max_token_len: 10, lowercase: true },
      { type: 'bool' },
      { type: 'datetime', is_principal: true },
      { type: 'uuid', is_tenant: true },
    ];
    for (const schema of typed) {
      const res = await q.raw('PUT', `/collections/${name}/index?wait=true`, {
        field_name: `typed_${String(schema.type)}`,
        field_schema: schema,
      });
      expect([schema.type, res.status]).toEqual([schema.type, 200]);
    }
    const info = await q.client.getCollection(name);
    for (const type of plain) {
      expect(info.payload_schema[`plain_${type}`]?.data_type).toBe(type);
      expect(info.payload_schema[`typed_${type}`]?.data_type).toBe(type);
    }
    const badTokenizer = await q.raw(
      'PUT',
      `/collections/${name}/index`,
      { field_name: 'x', field_schema: { type: 'text', tokenizer: 'chars' } },
      { invalidRequest: true },
    );
    expect(badTokenizer.status).toBe(400);
    expect(badTokenizer.body.status.error).toMatch(/^Format error in JSON body: /);
    const badFlag = await q.raw(
      'PUT',
      `/collections/${name}/index`,
      { field_name: 'x', field_schema: { type: 'keyword', is_tenant: 'yes' } },
      { invalidRequest: true },
    );
    expect(badFlag.status).toBe(400);
    expect(badFlag.body.status.error).toMatch(/^Format error in JSON body: /);
  });

  it('inserts only new points with insert_only and changes only existing ones with update_only', async () => {
    const name = q.collectionName('modes');
    await q.client.createCollection(name, { vectors: { size: 2, distance: 'Dot' } });
    await q.client.upsert(name, {
      wait: true,
      points: [{ id: 1, vector: [1, 0], payload: { v: 'first' } }],
    });
    await q.client.upsert(name, {
      wait: true,
      update_mode: 'insert_only',
      points: [
        { id: 1, vector: [0, 1], payload: { v: 'overwritten' } },
        { id: 2, vector: [0, 1], payload: { v: 'inserted' } },
      ],
    });
    await q.client.upsert(name, {
      wait: true,
      update_mode: 'update_only',
      points: [
        { id: 2, vector: [1, 1], payload: { v: 'updated' } },
        { id: 3, vector: [1, 1], payload: { v: 'never' } },
      ],
    });
    const { points } = await q.client.scroll(name, { with_payload: true });
    expect(points.map((p) => [p.id, p.payload?.v])).toEqual([
      [1, 'first'],
      [2, 'updated'],
    ]);
    const bad = await q.raw(
      'PUT',
      `/collections/${name}/points`,
      { points: [{ id: 4, vector: [1, 1] }], update_mode: 'replace' },
      { invalidRequest: true },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.status.error).toMatch(/^Format error in JSON body: /);
  });

  it('keeps strict-mode settings from creation and update', async () => {
    const name = q.collectionName('strict');
    await q.client.createCollection(name, {
      vectors: { size: 2, distance: 'Dot' },
      strict_mode_config: { enabled: true, max_query_limit: 5 },
    });
    let info = await q.client.getCollection(name);
    expect(info.config.strict_mode_config).toMatchObject({ enabled: true, max_query_limit: 5 });
    await q.client.updateCollection(name, { strict_mode_config: { max_query_limit: 7 } });
    info = await q.client.getCollection(name);
    expect(info.config.strict_mode_config).toMatchObject({ enabled: true, max_query_limit: 7 });
    const over = await q.raw('POST', `/collections/${name}/points/query`, {
      query: [1, 0],
      limit: 8,
    });
    expect(over.status).toBe(400);
    expect(over.body.status.error).toMatch(/^Bad request: .*limit/i);
    const within = await q.raw('POST', `/collections/${name}/points/query`, {
      query: [1, 0],
      limit: 7,
    });
    expect(within.status).toBe(200);
  });

  it('refuses filters on unindexed keys when strict mode says so', async () => {
    const name = q.collectionName('strictidx');
    await q.client.createCollection(name, {
      vectors: { size: 2, distance: 'Dot' },
      strict_mode_config: {
        enabled: true,
        unindexed_filtering_retrieve: false,
        unindexed_filtering_update: false,
      },
    });
    await q.client.createPayloadIndex(name, {
      field_name: 'doc',
      field_schema: 'keyword',
      wait: true,
    });
    await q.client.upsert(name, {
      wait: true,
      points: [
        { id: 1, vector: [1, 0], payload: { doc: 'a', other: 'x' } },
        { id: 2, vector: [0, 1], payload: { doc: 'b', other: 'y' } },
      ],
    });
    const onIndexed = { must: [{ key: 'doc', match: { value: 'a' } }] };
    const onOther = { must: [{ key: 'other', match: { value: 'x' } }] };
    await expect(q.client.count(name, { filter: onIndexed, exact: true })).resolves.toEqual({
      count: 1,
    });
    const refusals = [
      await q.raw('POST', `/collections/${name}/points/scroll`, { filter: onOther }),
      await q.raw('POST', `/collections/${name}/points/count`, { filter: onOther }),
      await q.raw('POST', `/collections/${name}/points/query`, { query: [1, 0], filter: onOther }),
      await q.raw('POST', `/collections/${name}/points/delete?wait=true`, { filter: onOther }),
    ];
    for (const res of refusals) {
      expect(res.status).toBe(400);
      expect(res.body.status.error).toMatch(
        /^Bad request: Index required but not found for "other"/,
      );
    }
    await q.client.delete(name, { wait: true, filter: onIndexed });
    await expect(q.client.count(name, { exact: true })).resolves.toEqual({ count: 1 });
  });
});
