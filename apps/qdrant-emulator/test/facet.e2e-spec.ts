import { QdrantFixture, useQdrantFixture } from './qdrant-fixture';

describe('facet and count', () => {
  const fixture = useQdrantFixture();
  let q: QdrantFixture;
  let name: string;

  beforeAll(async () => {
    q = fixture();
    name = q.collectionName('facet');
    await q.client.createCollection(name, { vectors: { size: 2, distance: 'Dot' } });
    for (const [field_name, field_schema] of [
      ['doc', 'keyword'],
      ['n', 'integer'],
      ['ok', 'bool'],
      ['owner', 'uuid'],
      ['tags', 'keyword'],
    ] as const) {
      await q.client.createPayloadIndex(name, { field_name, field_schema, wait: true });
    }
    const owners = ['0b6ee8b9-1c4e-4bcb-a5a0-6c3f7c1f0a11', '9c2d0f5e-7a3b-4e1f-8d6c-2b4a6e8f0c22'];
    await q.client.upsert(name, {
      wait: true,
      points: Array.from({ length: 12 }, (_, i) => ({
        id: i + 1,
        vector: [1, i],
        payload: {
          // a: 4 points, b: 4, c: 2, d: 1 (the 12th has no doc)
          ...(i < 11 ? { doc: ['b', 'b', 'a', 'b', 'a', 'c', 'b', 'a', 'c', 'a', 'd'][i] } : {}),
          n: i % 3,
          ok: i % 4 === 0,
          owner: owners[i % 2],
          // duplicates within one point count once
          tags: i < 3 ? ['x', 'x', 'y'] : ['y'],
          note: 'unindexed',
        },
      })),
    });
  });

  it('counts points per value, by count descending then value ascending', async () => {
    const { hits } = await q.client.facet(name, { key: 'doc', exact: true });
    expect(hits).toEqual([
      { value: 'a', count: 4 },
      { value: 'b', count: 4 },
      { value: 'c', count: 2 },
      { value: 'd', count: 1 },
    ]);
  });

  it('limits, filters and counts each point once per distinct value', async () => {
    const limited = await q.client.facet(name, { key: 'doc', limit: 2, exact: true });
    expect(limited.hits.map((h) => h.value)).toEqual(['a', 'b']);
    const filtered = await q.client.facet(name, {
      key: 'doc',
      exact: true,
      filter: { must: [{ key: 'n', match: { value: 0 } }] },
    });
    expect(filtered.hits).toEqual([
      { value: 'b', count: 3 },
      { value: 'a', count: 1 },
    ]);
    const tags = await q.client.facet(name, { key: 'tags', exact: true });
    expect(tags.hits).toEqual([
      { value: 'y', count: 12 },
      { value: 'x', count: 3 },
    ]);
  });

  it('facets integer, bool and uuid keys', async () => {
    const ints = await q.client.facet(name, { key: 'n', exact: true });
    expect(ints.hits).toEqual([
      { value: 0, count: 4 },
      { value: 1, count: 4 },
      { value: 2, count: 4 },
    ]);
    const bools = await q.client.facet(name, { key: 'ok', exact: true });
    expect(bools.hits).toEqual([
      { value: false, count: 9 },
      { value: true, count: 3 },
    ]);
    const uuids = await q.client.facet(name, { key: 'owner', exact: false });
    expect(uuids.hits).toEqual([
      { value: '0b6ee8b9-1c4e-4bcb-a5a0-6c3f7c1f0a11', count: 6 },
      { value: '9c2d0f5e-7a3b-4e1f-8d6c-2b4a6e8f0c22', count: 6 },
    ]);
  });

  it('refuses a key without a suitable index, a zero limit and a missing key', async () => {
    const unindexed = await q.raw('POST', `/collections/${name}/facet`, { key: 'note' });
    expect(unindexed.status).toBe(400);
    expect(unindexed.body.status.error).toMatch(/^Bad request: .*"note"/);
    const zero = await q.raw(
      'POST',
      `/collections/${name}/facet`,
      { key: 'doc', limit: 0 },
      { invalidRequest: true },
    );
    expect(zero.status).toBe(422);
    expect(zero.body.status.error).toMatch(/^Validation error in JSON body: \[limit: .*\]$/);
    const missing = await q.raw('POST', `/collections/${name}/facet`, {}, { invalidRequest: true });
    expect(missing.status).toBe(400);
    expect(missing.body.status.error).toMatch(/^Format error in JSON body: /);
    const nowhere = await q.raw('POST', '/collections/facet_missing_42/facet', { key: 'doc' });
    expect(nowhere.status).toBe(404);
  });

  it('counts exactly with and without a filter', async () => {
    await expect(q.client.count(name, { exact: true })).resolves.toEqual({ count: 12 });
    await expect(
      q.client.count(name, {
        exact: true,
        filter: { must: [{ key: 'doc', match: { value: 'a' } }] },
      }),
    ).resolves.toEqual({ count: 4 });
    // Without a filter even an estimate is the exact number of points.
    await expect(q.client.count(name, { exact: false })).resolves.toEqual({ count: 12 });
    const wrong = await q.raw(
      'POST',
      `/collections/${name}/points/count`,
      { exact: 'yes' },
      { invalidRequest: true },
    );
    expect(wrong.status).toBe(400);
    expect(wrong.body.status.error).toMatch(/^Format error in JSON body: /);
  });
});
