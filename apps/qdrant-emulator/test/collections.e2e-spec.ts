import { openFixture, QdrantFixture } from './qdrant-fixture';

describe('collections API', () => {
  let q: QdrantFixture;

  beforeAll(async () => {
    q = await openFixture();
  });

  afterAll(async () => {
    await q.close();
  });

  afterEach(() => {
    expect(q.proxy.violations.splice(0)).toEqual([]);
  });

  it('answers the root with title, version and a 40-character commit, and the probes with text', async () => {
    const root = await q.raw('GET', '/');
    expect(root.status).toBe(200);
    expect(root.body.title).toEqual(expect.any(String));
    expect(root.body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(root.body.commit).toMatch(/^[0-9a-f]{40}$/);
    const probes = {
      '/healthz': 'healthz check passed',
      '/livez': 'healthz check passed',
      '/readyz': 'all shards are ready',
    };
    for (const [probe, text] of Object.entries(probes)) {
      const res = await q.raw('GET', probe);
      expect(res.status).toBe(200);
      expect(res.body).toBe(text);
    }
  });

  it('creates, lists, reports, checks and deletes a collection', async () => {
    const name = q.collectionName('coll');
    await expect(
      q.client.createCollection(name, { vectors: { size: 4, distance: 'Cosine' } }),
    ).resolves.toBe(true);
    const list = await q.client.getCollections();
    expect(list.collections.map((c) => c.name)).toContain(name);
    await expect(q.client.collectionExists(name)).resolves.toEqual({ exists: true });
    const info = await q.client.getCollection(name);
    expect(info.status).toBe('green');
    expect(info.points_count).toBe(0);
    expect(info.config.params.vectors).toMatchObject({ size: 4, distance: 'Cosine' });
    expect(info.payload_schema).toEqual({});
    await expect(q.client.deleteCollection(name)).resolves.toBe(true);
    await expect(q.client.collectionExists(name)).resolves.toEqual({ exists: false });
    await expect(q.client.deleteCollection(name)).resolves.toBe(false);
  });

  it('wraps results in the envelope with status ok and a time in seconds', async () => {
    const res = await q.raw('GET', '/collections');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ok');
    expect(typeof res.body.time).toBe('number');
    expect(res.body.time).toBeLessThan(60);
    expect(Array.isArray(res.body.result.collections)).toBe(true);
  });

  it('answers 409 when the collection exists and 404 when it does not', async () => {
    const name = q.collectionName('dup');
    await q.client.createCollection(name, { vectors: { size: 4, distance: 'Dot' } });
    const again = await q.raw('PUT', `/collections/${name}`, {
      vectors: { size: 4, distance: 'Dot' },
    });
    expect(again.status).toBe(409);
    expect(again.body.status.error).toBe(`Wrong input: Collection \`${name}\` already exists!`);
    const missing = await q.raw('GET', '/collections/does_not_exist_42');
    expect(missing.status).toBe(404);
    expect(missing.body.status.error).toBe(
      "Not found: Collection `does_not_exist_42` doesn't exist!",
    );
    expect(typeof missing.body.time).toBe('number');
    const points = await q.raw('POST', '/collections/does_not_exist_42/points/scroll', {});
    expect(points.status).toBe(404);
  });

  it('keeps named dense vectors, sparse vectors and every distance', async () => {
    const name = q.collectionName('named');
    await q.client.createCollection(name, {
      vectors: {
        cos: { size: 3, distance: 'Cosine' },
        dot: { size: 2, distance: 'Dot' },
        euc: { size: 2, distance: 'Euclid', on_disk: true },
        man: { size: 2, distance: 'Manhattan' },
      },
      sparse_vectors: { text: {} },
      hnsw_config: { m: 32, ef_construct: 200 },
      optimizers_config: { indexing_threshold: 5000 },
      wal_config: { wal_capacity_mb: 64 },
      on_disk_payload: false,
    });
    const info = await q.client.getCollection(name);
    const vectors = info.config.params.vectors as Record<
      string,
      { size: number; distance: string; on_disk?: boolean }
    >;
    expect(vectors.cos).toMatchObject({ size: 3, distance: 'Cosine' });
    expect(vectors.dot).toMatchObject({ size: 2, distance: 'Dot' });
    expect(vectors.euc).toMatchObject({ size: 2, distance: 'Euclid', on_disk: true });
    expect(vectors.man).toMatchObject({ size: 2, distance: 'Manhattan' });
    expect(Object.keys(info.config.params.sparse_vectors ?? {})).toEqual(['text']);
    expect(info.config.hnsw_config).toMatchObject({ m: 32, ef_construct: 200 });
    expect(info.config.optimizer_config).toMatchObject({ indexing_threshold: 5000 });
    expect(info.config.wal_config).toMatchObject({ wal_capacity_mb: 64 });
    expect(info.config.params.on_disk_payload).toBe(false);
  });

  it('creates and deletes payload indexes, reflected in payload_schema', async () => {
    const name = q.collectionName('idx');
    await q.client.createCollection(name, { vectors: { size: 2, distance: 'Dot' } });
    await q.client.upsert(name, {
      wait: true,
      points: [
        { id: 1, vector: [1, 0], payload: { document_id: 'a', n: 1 } },
        { id: 2, vector: [0, 1], payload: { document_id: 'b' } },
      ],
    });
    const created = await q.client.createPayloadIndex(name, {
      field_name: 'document_id',
      field_schema: 'keyword',
      wait: true,
    });
    expect(created.status).toBe('completed');
    await q.client.createPayloadIndex(name, {
      field_name: 'n',
      field_schema: 'integer',
      wait: true,
    });
    const info = await q.client.getCollection(name);
    expect(info.payload_schema.document_id).toMatchObject({ data_type: 'keyword', points: 2 });
    expect(info.payload_schema.n).toMatchObject({ data_type: 'integer', points: 1 });
    await q.client.deletePayloadIndex(name, 'n', { wait: true });
    const after = await q.client.getCollection(name);
    expect(Object.keys(after.payload_schema)).toEqual(['document_id']);
  });

  it('rejects invalid bodies with 422 validation errors and malformed ones with 400 format errors', async () => {
    const name = q.collectionName('bad');
    const zero = await q.raw(
      'PUT',
      `/collections/${name}`,
      { vectors: { size: 0, distance: 'Cosine' } },
      { invalidRequest: true },
    );
    expect(zero.status).toBe(422);
    expect(zero.body.status.error).toMatch(
      /^Validation error in JSON body: \[vectors\.size: .*\]$/,
    );
    const malformed = await q.raw('PUT', `/collections/${name}`, undefined, {
      text: '{"vectors": ',
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.status.error).toMatch(/^Format error in JSON body: /);
    const wrongType = await q.raw(
      'PUT',
      `/collections/${name}`,
      { vectors: { size: 'four', distance: 'Cosine' } },
      { invalidRequest: true },
    );
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.status.error).toMatch(/^Format error in JSON body: /);
    const badDistance = await q.raw(
      'PUT',
      `/collections/${name}`,
      { vectors: { size: 4, distance: 'Hamming' } },
      { invalidRequest: true },
    );
    expect(badDistance.status).toBe(400);
    expect(badDistance.body.status.error).toMatch(/^Format error in JSON body: /);
    await expect(q.client.collectionExists(name)).resolves.toEqual({ exists: false });
  });

  it('accepts collection updates and reports them', async () => {
    const name = q.collectionName('patch');
    await q.client.createCollection(name, { vectors: { size: 2, distance: 'Cosine' } });
    await expect(
      q.client.updateCollection(name, { optimizers_config: { indexing_threshold: 1234 } }),
    ).resolves.toBe(true);
    const info = await q.client.getCollection(name);
    expect(info.config.optimizer_config.indexing_threshold).toBe(1234);
  });
});
