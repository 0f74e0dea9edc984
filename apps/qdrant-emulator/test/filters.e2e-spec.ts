import { openFixture, QdrantFixture } from './qdrant-fixture';

/** The filter language, evaluated through scroll so the result is the exact matching id set. */
describe('filters', () => {
  let q: QdrantFixture;
  let name: string;

  beforeAll(async () => {
    q = await openFixture();
    name = q.collectionName('flt');
    await q.client.createCollection(name, { vectors: { size: 2, distance: 'Dot' } });
    await q.client.upsert(name, {
      wait: true,
      points: [
        {
          id: 1,
          vector: [1, 0],
          payload: {
            city: 'Berlin',
            tags: ['red', 'green'],
            price: 10,
            rating: 4.5,
            created: '2024-01-10T00:00:00Z',
            meta: { source: 'web', lang: 'en' },
            country: {
              cities: [
                { name: 'Berlin', population: 3.7 },
                { name: 'Hamburg', population: 1.8 },
              ],
            },
            text: 'The quick brown fox',
            note: null,
          },
        },
        {
          id: 2,
          vector: [0, 1],
          payload: {
            city: 'London',
            tags: ['blue'],
            price: 25,
            rating: 3,
            created: '2024-03-01T12:00:00Z',
            meta: { source: 'api', lang: 'ko' },
            country: { cities: [{ name: 'London', population: 8.9 }] },
            text: 'lazy dogs sleep',
            empty_list: [],
          },
        },
        {
          id: 3,
          vector: [1, 1],
          payload: { city: ['Berlin', 'Paris'], price: 40, tags: [], meta: { source: 'web' } },
        },
        { id: 4, vector: [2, 1], payload: { count: [1, 2, 3], note: 'x' } },
        { id: 5, vector: [1, 2], payload: {} },
      ],
    });
  });

  afterAll(async () => {
    await q.close();
  });

  afterEach(() => {
    expect(q.proxy.violations.splice(0)).toEqual([]);
  });

  const ids = async (filter: Record<string, unknown>) => {
    const res = await q.client.scroll(name, { filter, limit: 100, with_payload: false });
    return res.points.map((p) => p.id);
  };

  it('matches a value, including any element of an array; a missing field never matches', async () => {
    await expect(ids({ must: [{ key: 'city', match: { value: 'Berlin' } }] })).resolves.toEqual([
      1, 3,
    ]);
    await expect(ids({ must: [{ key: 'tags', match: { value: 'blue' } }] })).resolves.toEqual([2]);
    await expect(ids({ must: [{ key: 'price', match: { value: 25 } }] })).resolves.toEqual([2]);
    await expect(ids({ must: [{ key: 'nope', match: { value: 'x' } }] })).resolves.toEqual([]);
  });

  it('matches any and except', async () => {
    await expect(
      ids({ must: [{ key: 'city', match: { any: ['London', 'Paris'] } }] }),
    ).resolves.toEqual([2, 3]);
    await expect(ids({ must: [{ key: 'city', match: { except: ['Berlin'] } }] })).resolves.toEqual([
      2, 3,
    ]);
  });

  it('matches text', async () => {
    await expect(ids({ must: [{ key: 'text', match: { text: 'brown fox' } }] })).resolves.toEqual([
      1,
    ]);
  });

  it('filters by numeric and datetime ranges', async () => {
    await expect(ids({ must: [{ key: 'price', range: { gte: 10, lt: 40 } }] })).resolves.toEqual([
      1, 2,
    ]);
    await expect(ids({ must: [{ key: 'rating', range: { gt: 3 } }] })).resolves.toEqual([1]);
    await expect(ids({ must: [{ key: 'price', range: { lte: 10 } }] })).resolves.toEqual([1]);
    await expect(
      ids({ must: [{ key: 'created', range: { gt: '2024-02-01T00:00:00Z' } }] }),
    ).resolves.toEqual([2]);
  });

  it('combines must, should, must_not and min_should', async () => {
    await expect(
      ids({
        should: [
          { key: 'city', match: { value: 'London' } },
          { key: 'price', range: { gte: 40 } },
        ],
      }),
    ).resolves.toEqual([2, 3]);
    await expect(ids({ must_not: [{ key: 'city', match: { value: 'Berlin' } }] })).resolves.toEqual(
      [2, 4, 5],
    );
    await expect(
      ids({
        must: [{ key: 'meta.source', match: { value: 'web' } }],
        must_not: [{ key: 'price', range: { gt: 20 } }],
      }),
    ).resolves.toEqual([1]);
    await expect(
      ids({
        min_should: {
          conditions: [
            { key: 'city', match: { value: 'Berlin' } },
            { key: 'price', range: { gte: 20 } },
            { key: 'meta.source', match: { value: 'web' } },
          ],
          min_count: 2,
        },
      }),
    ).resolves.toEqual([1, 3]);
    await expect(
      ids({
        must: [
          {
            should: [
              { key: 'price', match: { value: 10 } },
              { key: 'price', match: { value: 40 } },
            ],
          },
        ],
      }),
    ).resolves.toEqual([1, 3]);
  });

  it('selects by id with has_id', async () => {
    await expect(ids({ must: [{ has_id: [2, 4, 99] }] })).resolves.toEqual([2, 4]);
  });

  it('distinguishes is_empty (missing, null or []) from is_null', async () => {
    await expect(ids({ must: [{ is_empty: { key: 'tags' } }] })).resolves.toEqual([3, 4, 5]);
    await expect(ids({ must: [{ is_empty: { key: 'empty_list' } }] })).resolves.toEqual([
      1, 2, 3, 4, 5,
    ]);
    await expect(ids({ must: [{ is_empty: { key: 'note' } }] })).resolves.toEqual([1, 2, 3, 5]);
    await expect(ids({ must: [{ is_null: { key: 'note' } }] })).resolves.toEqual([1]);
  });

  it('counts values', async () => {
    await expect(ids({ must: [{ key: 'count', values_count: { gte: 3 } }] })).resolves.toEqual([4]);
    await expect(ids({ must: [{ key: 'tags', values_count: { lt: 2, gt: 0 } }] })).resolves.toEqual(
      [2],
    );
  });

  it('follows dotted keys and [] paths', async () => {
    await expect(ids({ must: [{ key: 'meta.lang', match: { value: 'ko' } }] })).resolves.toEqual([
      2,
    ]);
    await expect(
      ids({ must: [{ key: 'country.cities[].name', match: { value: 'Hamburg' } }] }),
    ).resolves.toEqual([1]);
    await expect(
      ids({ must: [{ key: 'country.cities[].population', range: { gt: 5 } }] }),
    ).resolves.toEqual([2]);
  });

  it('evaluates nested conditions per array element', async () => {
    // Berlin has 3.7 and Hamburg 1.8: no single city is both Hamburg and above 2.
    const nested = (population: number) => ({
      must: [
        {
          nested: {
            key: 'country.cities',
            filter: {
              must: [
                { key: 'name', match: { value: 'Hamburg' } },
                { key: 'population', range: { gt: population } },
              ],
            },
          },
        },
      ],
    });
    await expect(ids(nested(2))).resolves.toEqual([]);
    await expect(ids(nested(1))).resolves.toEqual([1]);
  });

  it('answers 422 for a condition with only a key', async () => {
    const res = await q.raw(
      'POST',
      `/collections/${name}/points/scroll`,
      { filter: { must: [{ key: 'city' }] } },
      { invalidRequest: true },
    );
    expect(res.status).toBe(422);
    expect(res.body.status.error).toMatch(/^Validation error in JSON body: \[.*\]$/);
    expect(res.body.status.error).toContain('At least one field condition must be specified');
  });

  it('applies filters to count, delete and query alike', async () => {
    const filter = { must: [{ key: 'city', match: { value: 'Berlin' } }] };
    await expect(q.client.count(name, { filter, exact: true })).resolves.toEqual({ count: 2 });
    const hits = await q.client.query(name, { query: [1, 0], filter, limit: 10 });
    expect(hits.points.map((p) => p.id).sort()).toEqual([1, 3]);
  });

  it('gives the same answers through payload indexes, and keeps them in step with payload changes', async () => {
    const indexed = q.collectionName('fltidx');
    await q.client.createCollection(indexed, { vectors: { size: 2, distance: 'Dot' } });
    await q.client.createPayloadIndex(indexed, {
      field_name: 'owner',
      field_schema: 'keyword',
      wait: true,
    });
    await q.client.createPayloadIndex(indexed, {
      field_name: 'n',
      field_schema: 'integer',
      wait: true,
    });
    await q.client.upsert(indexed, {
      wait: true,
      points: Array.from({ length: 40 }, (_, i) => ({
        id: i,
        vector: [1, i],
        payload: { owner: i % 4 === 0 ? ['o1', 'o2'] : `o${i % 4}`, n: i % 5 },
      })),
    });
    const scrollIds = async (filter: Record<string, unknown>) =>
      (await q.client.scroll(indexed, { filter, limit: 100, with_payload: false })).points.map(
        (p) => p.id,
      );
    const owner = (value: string) => ({ must: [{ key: 'owner', match: { value } }] });
    const expectedO1 = Array.from({ length: 40 }, (_, i) => i).filter(
      (i) => i % 4 === 0 || i % 4 === 1,
    );
    await expect(scrollIds(owner('o1'))).resolves.toEqual(expectedO1);
    await expect(
      scrollIds({
        must: [
          { key: 'owner', match: { any: ['o2', 'o3'] } },
          { key: 'n', match: { value: 0 } },
        ],
      }),
    ).resolves.toEqual([0, 10, 15, 20, 30, 35].filter((i) => i % 4 !== 1));
    await expect(q.client.count(indexed, { filter: owner('o1'), exact: true })).resolves.toEqual({
      count: expectedO1.length,
    });
    const hits = await q.client.query(indexed, { query: [0, 1], filter: owner('o3'), limit: 3 });
    expect(hits.points.map((p) => p.id)).toEqual([39, 35, 31]);

    await q.client.setPayload(indexed, { wait: true, points: [1, 5], payload: { owner: 'o9' } });
    await q.client.overwritePayload(indexed, { wait: true, points: [8], payload: { owner: 'o9' } });
    await q.client.deletePayload(indexed, { wait: true, points: [9], keys: ['owner'] });
    await q.client.delete(indexed, { wait: true, points: [12] });
    await q.client.upsert(indexed, {
      wait: true,
      points: [{ id: 13, vector: [1, 1], payload: { owner: 'o9' } }],
    });
    await expect(scrollIds(owner('o9'))).resolves.toEqual([1, 5, 8, 13]);
    await expect(scrollIds(owner('o1'))).resolves.toEqual(
      expectedO1.filter((i) => ![1, 5, 8, 9, 12, 13].includes(i)),
    );
    await q.client.delete(indexed, { wait: true, filter: owner('o9') });
    await expect(q.client.count(indexed, { exact: true })).resolves.toEqual({ count: 35 });
    await q.client.deletePayloadIndex(indexed, 'owner', { wait: true });
    await expect(scrollIds(owner('o2'))).resolves.toEqual(
      Array.from({ length: 40 }, (_, i) => i).filter(
        (i) => (i % 4 === 0 && ![8, 12].includes(i)) || i % 4 === 2,
      ),
    );
  });

  it('selects payload parts through array paths, keeping their shape', async () => {
    const [berlin] = await q.client.retrieve(name, {
      ids: [1],
      with_payload: { include: ['country.cities[].name', 'meta.lang'] },
    });
    expect(berlin.payload).toEqual({
      country: { cities: [{ name: 'Berlin' }, { name: 'Hamburg' }] },
      meta: { lang: 'en' },
    });
    const [without] = await q.client.retrieve(name, {
      ids: [1],
      with_payload: { exclude: ['country.cities[].population', 'text', 'tags', 'note'] },
    });
    expect(without.payload).toEqual({
      city: 'Berlin',
      price: 10,
      rating: 4.5,
      created: '2024-01-10T00:00:00Z',
      meta: { source: 'web', lang: 'en' },
      country: { cities: [{ name: 'Berlin' }, { name: 'Hamburg' }] },
    });
    const both = await q.client.scroll(name, {
      filter: { must: [{ has_id: [1, 2] }] },
      with_payload: ['country.cities[].population', 'country.cities[].name'],
    });
    expect(both.points.map((p) => p.payload)).toEqual([
      {
        country: {
          cities: [
            { name: 'Berlin', population: 3.7 },
            { name: 'Hamburg', population: 1.8 },
          ],
        },
      },
      { country: { cities: [{ name: 'London', population: 8.9 }] } },
    ]);
  });
});
