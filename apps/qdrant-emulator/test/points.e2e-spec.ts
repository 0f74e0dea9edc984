import { openFixture, QdrantFixture } from './qdrant-fixture';

describe('points API', () => {
  let q: QdrantFixture;
  let name: string;

  beforeAll(async () => {
    q = await openFixture();
  });

  afterAll(async () => {
    await q.close();
  });

  beforeEach(async () => {
    name = q.collectionName('pts');
    await q.client.createCollection(name, { vectors: { size: 4, distance: 'Cosine' } });
  });

  afterEach(() => {
    expect(q.proxy.violations.splice(0)).toEqual([]);
  });

  const seed = () =>
    q.client.upsert(name, {
      wait: true,
      points: [
        { id: 1, vector: [1, 0, 0, 0], payload: { group: 'a', n: 1, nested: { x: 1, y: 2 } } },
        { id: 2, vector: [0, 1, 0, 0], payload: { group: 'a', n: 2 } },
        { id: 3, vector: [0, 0, 1, 0], payload: { group: 'b', n: 3 } },
        {
          id: '6b9ad3a4-43c5-4b6c-a3d1-9b5ef8d0e001',
          vector: [0, 0, 0, 1],
          payload: { group: 'b' },
        },
      ],
    });

  it('upserts a list with wait=true (completed) and answers acknowledged without wait', async () => {
    const done = await seed();
    expect(done.status).toBe('completed');
    expect(typeof done.operation_id).toBe('number');
    const ack = await q.raw('PUT', `/collections/${name}/points`, {
      points: [{ id: 9, vector: [1, 1, 1, 1] }],
    });
    expect(ack.status).toBe(200);
    expect(ack.body.result.status).toBe('acknowledged');
    const waited = await q.raw('PUT', `/collections/${name}/points?wait=true`, {
      points: [{ id: 10, vector: [1, 1, 1, 1] }],
    });
    expect(waited.body.result.status).toBe('completed');
    await expect(q.client.count(name, { exact: true })).resolves.toEqual({ count: 6 });
  });

  it('upserts the batch form', async () => {
    await q.client.upsert(name, {
      wait: true,
      batch: {
        ids: [5, 6],
        vectors: [
          [1, 2, 3, 4],
          [4, 3, 2, 1],
        ],
        payloads: [{ k: 'five' }, { k: 'six' }],
      },
    });
    const points = await q.client.retrieve(name, { ids: [5, 6], with_payload: true });
    expect(points.map((p) => [p.id, p.payload?.k])).toEqual([
      [5, 'five'],
      [6, 'six'],
    ]);
  });

  it('rejects a wrong dimension with 400 even with wait=false, and stores nothing', async () => {
    for (const wait of ['', '?wait=true']) {
      const res = await q.raw('PUT', `/collections/${name}/points${wait}`, {
        points: [{ id: 7, vector: [1, 2, 3] }],
      });
      expect(res.status).toBe(400);
      expect(res.body.status.error).toBe(
        'Wrong input: Vector dimension error: expected dim: 4, got 3',
      );
    }
    await expect(q.client.count(name, { exact: true })).resolves.toEqual({ count: 0 });
  });

  it('accepts unsigned integer and UUID ids, returns UUIDs lowercase and hyphenated, and rejects other ids', async () => {
    await q.client.upsert(name, {
      wait: true,
      points: [
        { id: 0, vector: [1, 0, 0, 0] },
        { id: 'F4A8D1B2-7C3E-4D5F-9A6B-1C2D3E4F5A6B', vector: [0, 1, 0, 0] },
      ],
    });
    const scroll = await q.client.scroll(name, { limit: 10 });
    expect(scroll.points.map((p) => p.id)).toEqual([0, 'f4a8d1b2-7c3e-4d5f-9a6b-1c2d3e4f5a6b']);
    for (const id of [-1, 'not-a-uuid', 1.5]) {
      const res = await q.raw(
        'PUT',
        `/collections/${name}/points?wait=true`,
        { points: [{ id, vector: [1, 0, 0, 0] }] },
        { invalidRequest: true },
      );
      expect(res.status).toBe(400);
      expect(res.body.status.error).toMatch(/^Format error in JSON body: /);
    }
  });

  // Large enough (~0.5 MB) to be parsed off the event loop, as bulk loads are.
  const bulk = (count: number) =>
    Array.from({ length: count }, (_, i) => ({
      id: i,
      vector: [((i % 7) - 3) * 0.123456789, -1e-3 * i, 2.5e2, i % 5 === 0 ? -0.0 : 1 / (i + 1)],
      payload: { n: i, title: `문서 ${i} — ünïcödé ✓`, tags: ['a', `t${i % 3}`] },
    }));

  it('stores a large upsert body exactly as a small one', async () => {
    const points = bulk(4000);
    const res = await q.raw('PUT', `/collections/${name}/points?wait=true`, { points });
    expect(res.status).toBe(200);
    expect(res.body.result.status).toBe('completed');
    await expect(q.client.count(name, { exact: true })).resolves.toEqual({ count: 4000 });
    const ids = [0, 1, 5, 1234, 3999];
    const stored = await q.client.retrieve(name, { ids, with_vector: true, with_payload: true });
    // The same points sent in a small body, one request each, must come back identical.
    const small = q.collectionName('pts_small');
    await q.client.createCollection(small, { vectors: { size: 4, distance: 'Cosine' } });
    for (const id of ids) {
      await q.client.upsert(small, { wait: true, points: [points[id]] });
    }
    const reference = await q.client.retrieve(small, {
      ids,
      with_vector: true,
      with_payload: true,
    });
    const byId = (list: typeof stored) => [...list].sort((a, b) => Number(a.id) - Number(b.id));
    expect(byId(stored)).toEqual(byId(reference));
    expect(byId(stored)[3].payload).toEqual(points[1234].payload);
    const vector = byId(stored)[2].vector as number[];
    const input = points[5].vector;
    const norm = Math.hypot(...input);
    input.forEach((v, d) => expect(vector[d]).toBeCloseTo(v / norm, 6));
  });

  it('rejects a large malformed or invalid upsert body as it does a small one', async () => {
    const text = JSON.stringify({ points: bulk(4000) });
    const truncated = await q.raw('PUT', `/collections/${name}/points?wait=true`, undefined, {
      text: text.slice(0, text.length - 100),
      invalidRequest: true,
    });
    expect(truncated.status).toBe(400);
    expect(truncated.body.status.error).toMatch(/^Format error in JSON body: /);
    const points = bulk(4000);
    points[2500].vector = [1, 2, 3];
    const wrongDim = await q.raw('PUT', `/collections/${name}/points?wait=true`, { points });
    expect(wrongDim.status).toBe(400);
    expect(wrongDim.body.status.error).toBe(
      'Wrong input: Vector dimension error: expected dim: 4, got 3',
    );
    const badIds = bulk(4000) as Array<{ id: unknown }>;
    badIds[3000].id = -5;
    const badId = await q.raw(
      'PUT',
      `/collections/${name}/points?wait=true`,
      { points: badIds },
      { invalidRequest: true },
    );
    expect(badId.status).toBe(400);
    expect(badId.body.status.error).toMatch(/^Format error in JSON body: /);
    await expect(q.client.count(name, { exact: true })).resolves.toEqual({ count: 0 });
  });

  it('normalises cosine vectors when storing them', async () => {
    await q.client.upsert(name, { wait: true, points: [{ id: 1, vector: [3, 0, 4, 0] }] });
    const [point] = await q.client.retrieve(name, { ids: [1], with_vector: true });
    const vector = point.vector as number[];
    expect(vector[0]).toBeCloseTo(0.6, 6);
    expect(vector[2]).toBeCloseTo(0.8, 6);
  });

  it('retrieves one point (404 when missing) and many (missing ones skipped)', async () => {
    await seed();
    const one = await q.raw('GET', `/collections/${name}/points/1`);
    expect(one.status).toBe(200);
    expect(one.body.result).toMatchObject({ id: 1, payload: { group: 'a', n: 1 } });
    expect(one.body.result.vector).toHaveLength(4);
    const missing = await q.raw('GET', `/collections/${name}/points/999`);
    expect(missing.status).toBe(404);
    expect(missing.body.status.error).toMatch(/^Not found: /);
    const many = await q.client.retrieve(name, { ids: [3, 999, 1] });
    expect(many.map((p) => p.id).sort()).toEqual([1, 3]);
    expect(many[0].vector ?? null).toBeNull();
  });

  it('deletes points by ids and by filter', async () => {
    await seed();
    await q.client.delete(name, { wait: true, points: [1] });
    await expect(q.client.count(name, { exact: true })).resolves.toEqual({ count: 3 });
    await q.client.delete(name, {
      wait: true,
      filter: { must: [{ key: 'group', match: { value: 'b' } }] },
    });
    const rest = await q.client.scroll(name, {});
    expect(rest.points.map((p) => p.id)).toEqual([2]);
  });

  it('sets, overwrites, deletes and clears payload by ids, by filter and under a key', async () => {
    await seed();
    await q.client.setPayload(name, { wait: true, points: [1], payload: { extra: true, n: 10 } });
    let [p1] = await q.client.retrieve(name, { ids: [1] });
    expect(p1.payload).toEqual({ group: 'a', n: 10, extra: true, nested: { x: 1, y: 2 } });

    await q.client.setPayload(name, {
      wait: true,
      points: [1],
      key: 'nested',
      payload: { y: 20, z: 30 },
    });
    [p1] = await q.client.retrieve(name, { ids: [1] });
    expect(p1.payload?.nested).toEqual({ x: 1, y: 20, z: 30 });

    await q.client.setPayload(name, {
      wait: true,
      filter: { must: [{ key: 'group', match: { value: 'b' } }] },
      payload: { tagged: 1 },
    });
    const tagged = await q.client.count(name, {
      filter: { must: [{ key: 'tagged', match: { value: 1 } }] },
      exact: true,
    });
    expect(tagged.count).toBe(2);

    await q.client.overwritePayload(name, { wait: true, points: [2], payload: { only: 'this' } });
    const [p2] = await q.client.retrieve(name, { ids: [2] });
    expect(p2.payload).toEqual({ only: 'this' });

    await q.client.deletePayload(name, { wait: true, points: [1], keys: ['extra', 'nested.x'] });
    [p1] = await q.client.retrieve(name, { ids: [1] });
    expect(p1.payload).toEqual({ group: 'a', n: 10, nested: { y: 20, z: 30 } });

    await q.client.clearPayload(name, { wait: true, points: [1, 3] });
    const cleared = await q.client.retrieve(name, { ids: [1, 3] });
    expect(cleared.map((p) => p.payload)).toEqual([{}, {}]);
  });

  it('answers 404 for payload changes on a missing point', async () => {
    await seed();
    const res = await q.raw('POST', `/collections/${name}/points/payload?wait=true`, {
      points: [424242],
      payload: { a: 1 },
    });
    expect(res.status).toBe(404);
    expect(res.body.status.error).toMatch(/^Not found: /);
  });

  it('applies a batch of operations in order', async () => {
    const result = await q.client.batchUpdate(name, {
      wait: true,
      operations: [
        {
          upsert: {
            points: [
              { id: 1, vector: [1, 0, 0, 0], payload: { a: 1 } },
              { id: 2, vector: [0, 1, 0, 0] },
            ],
          },
        },
        { set_payload: { payload: { b: 2 }, points: [1] } },
        { delete: { points: [2] } },
        { delete_payload: { keys: ['a'], points: [1] } },
      ],
    });
    expect(result).toHaveLength(4);
    expect(result.every((r) => r.status === 'completed')).toBe(true);
    const scroll = await q.client.scroll(name, {});
    expect(scroll.points).toEqual([expect.objectContaining({ id: 1, payload: { b: 2 } })]);
  });

  it('scrolls in id order with an inclusive offset and next_page_offset', async () => {
    await q.client.upsert(name, {
      wait: true,
      points: [5, 1, 4, 2, 3].map((id) => ({
        id,
        vector: [id, 1, 0, 0],
        payload: { id, keep: id % 2 === 1 },
      })),
    });
    const first = await q.client.scroll(name, { limit: 2 });
    expect(first.points.map((p) => p.id)).toEqual([1, 2]);
    expect(first.next_page_offset).toBe(3);
    const second = await q.client.scroll(name, {
      limit: 2,
      offset: first.next_page_offset ?? undefined,
    });
    expect(second.points.map((p) => p.id)).toEqual([3, 4]);
    const last = await q.client.scroll(name, {
      limit: 2,
      offset: second.next_page_offset ?? undefined,
    });
    expect(last.points.map((p) => p.id)).toEqual([5]);
    expect(last.next_page_offset ?? null).toBeNull();
    const filtered = await q.client.scroll(name, {
      filter: { must: [{ key: 'keep', match: { value: true } }] },
      limit: 10,
    });
    expect(filtered.points.map((p) => p.id)).toEqual([1, 3, 5]);
  });

  it('applies payload include/exclude selectors and with_vector', async () => {
    await seed();
    const include = await q.client.scroll(name, {
      limit: 1,
      with_payload: { include: ['group', 'nested.y'] },
    });
    expect(include.points[0].payload).toEqual({ group: 'a', nested: { y: 2 } });
    const exclude = await q.client.scroll(name, {
      limit: 1,
      with_payload: { exclude: ['nested'] },
    });
    expect(exclude.points[0].payload).toEqual({ group: 'a', n: 1 });
    const list = await q.client.scroll(name, { limit: 1, with_payload: ['n'] });
    expect(list.points[0].payload).toEqual({ n: 1 });
    const none = await q.client.scroll(name, { limit: 1, with_payload: false, with_vector: true });
    expect(none.points[0].payload ?? null).toBeNull();
    expect(none.points[0].vector).toEqual([1, 0, 0, 0]);
  });

  it('prints a lone unnamed vector as a plain array beside sparse vectors', async () => {
    const mixed = q.collectionName('mixed');
    await q.client.createCollection(mixed, {
      vectors: { size: 2, distance: 'Dot' },
      sparse_vectors: { words: {} },
    });
    await q.client.upsert(mixed, {
      wait: true,
      points: [
        { id: 1, vector: [1, 2] },
        { id: 2, vector: { '': [3, 4], words: { indices: [7], values: [0.5] } } },
      ],
    });
    const [plain, both] = await q.client.retrieve(mixed, { ids: [1, 2], with_vector: true });
    expect(plain.vector).toEqual([1, 2]);
    expect(both.vector).toEqual({ '': [3, 4], words: { indices: [7], values: [0.5] } });
    const scrolled = await q.client.scroll(mixed, { limit: 1, with_vector: true });
    expect(scrolled.points[0].vector).toEqual([1, 2]);
    const found = await q.client.query(mixed, { query: [0, 1], limit: 2, with_vector: true });
    expect(found.points.map((p) => p.vector)).toEqual([both.vector, [1, 2]]);
  });

  it('counts exactly, with and without a filter', async () => {
    await seed();
    await expect(q.client.count(name, { exact: true })).resolves.toEqual({ count: 4 });
    await expect(
      q.client.count(name, {
        exact: true,
        filter: { must: [{ key: 'group', match: { value: 'a' } }] },
      }),
    ).resolves.toEqual({ count: 2 });
  });

  it('stores named and sparse vectors, including points that carry only some of them', async () => {
    const multi = q.collectionName('multi');
    await q.client.createCollection(multi, {
      vectors: { title: { size: 2, distance: 'Dot' }, body: { size: 3, distance: 'Euclid' } },
      sparse_vectors: { words: {} },
    });
    await q.client.upsert(multi, {
      wait: true,
      points: [
        {
          id: 1,
          vector: {
            title: [1, 2],
            body: [1, 2, 3],
            words: { indices: [5, 1], values: [0.5, 0.25] },
          },
        },
        { id: 2, vector: { title: [3, 4] } },
      ],
    });
    const points = await q.client.retrieve(multi, { ids: [1, 2], with_vector: true });
    const byId = new Map(points.map((p) => [p.id, p.vector as Record<string, unknown>]));
    expect(byId.get(1)).toMatchObject({ title: [1, 2], body: [1, 2, 3] });
    const words = byId.get(1)?.words as { indices: number[]; values: number[] };
    expect(words.indices.map((i, k) => [i, words.values[k]]).sort((a, b) => a[0] - b[0])).toEqual([
      [1, 0.25],
      [5, 0.5],
    ]);
    expect(Object.keys(byId.get(2) ?? {})).toEqual(['title']);
    const onlyTitle = await q.client.retrieve(multi, { ids: [1], with_vector: ['title'] });
    expect(Object.keys(onlyTitle[0].vector as object)).toEqual(['title']);
    const wrong = await q.raw('PUT', `/collections/${multi}/points?wait=true`, {
      points: [{ id: 3, vector: { nope: [1, 2] } }],
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body.status.error).toMatch(/^Wrong input: /);
    const wrongDim = await q.raw('PUT', `/collections/${multi}/points`, {
      points: [{ id: 3, vector: { body: [1, 2] } }],
    });
    expect(wrongDim.status).toBe(400);
    expect(wrongDim.body.status.error).toBe(
      'Wrong input: Vector dimension error: expected dim: 3, got 2',
    );
  });

  it('updates and deletes single named vectors', async () => {
    const multi = q.collectionName('vecs');
    await q.client.createCollection(multi, {
      vectors: { a: { size: 2, distance: 'Dot' }, b: { size: 2, distance: 'Dot' } },
    });
    await q.client.upsert(multi, {
      wait: true,
      points: [{ id: 1, vector: { a: [1, 1], b: [2, 2] }, payload: { keep: true } }],
    });
    await q.client.updateVectors(multi, { wait: true, points: [{ id: 1, vector: { a: [5, 5] } }] });
    await q.client.deleteVectors(multi, { wait: true, points: [1], vector: ['b'] });
    const [point] = await q.client.retrieve(multi, {
      ids: [1],
      with_vector: true,
      with_payload: true,
    });
    expect(point.vector).toEqual({ a: [5, 5] });
    expect(point.payload).toEqual({ keep: true });
  });

  it('rejects malformed JSON with a 400 format error', async () => {
    const res = await q.raw('POST', `/collections/${name}/points/scroll`, undefined, {
      text: '{"limit": 1,',
    });
    expect(res.status).toBe(400);
    expect(res.body.status.error).toMatch(/^Format error in JSON body: /);
    const wrongType = await q.raw(
      'POST',
      `/collections/${name}/points/scroll`,
      { limit: 'ten' },
      { invalidRequest: true },
    );
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.status.error).toMatch(/^Format error in JSON body: /);
  });
});
