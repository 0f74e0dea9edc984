import { openFixture, QdrantFixture } from './qdrant-fixture';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

describe('query and search', () => {
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

  const ids = (points: Array<{ id: string | number }>) => points.map((p) => p.id);

  it('ranks Dot and Cosine descending with score_threshold as a lower bound', async () => {
    for (const distance of ['Dot', 'Cosine'] as const) {
      const name = q.collectionName(distance.toLowerCase());
      await q.client.createCollection(name, { vectors: { size: 2, distance } });
      await q.client.upsert(name, {
        wait: true,
        points: [
          { id: 1, vector: [1, 0] },
          { id: 2, vector: [0.8, 0.6] },
          { id: 3, vector: [0, 1] },
          { id: 4, vector: [-1, 0] },
        ],
      });
      const all = await q.client.query(name, { query: [1, 0], limit: 10 });
      expect(ids(all.points)).toEqual([1, 2, 3, 4]);
      const scores = all.points.map((p) => p.score);
      expect(scores[0]).toBeCloseTo(1, 6);
      expect(scores[1]).toBeCloseTo(0.8, 6);
      const above = await q.client.query(name, { query: [1, 0], limit: 10, score_threshold: 0.5 });
      expect(ids(above.points)).toEqual([1, 2]);
    }
  });

  it('ranks Euclid and Manhattan ascending with score_threshold as an upper bound', async () => {
    for (const distance of ['Euclid', 'Manhattan'] as const) {
      const name = q.collectionName(distance.toLowerCase());
      await q.client.createCollection(name, { vectors: { size: 2, distance } });
      await q.client.upsert(name, {
        wait: true,
        points: [
          { id: 1, vector: [0, 0] },
          { id: 2, vector: [3, 4] },
          { id: 3, vector: [1, 1] },
        ],
      });
      const all = await q.client.query(name, { query: [0, 0], limit: 10 });
      expect(ids(all.points)).toEqual([1, 3, 2]);
      const expected = distance === 'Euclid' ? [0, Math.SQRT2, 5] : [0, 2, 7];
      all.points.forEach((p, i) => expect(p.score).toBeCloseTo(expected[i], 5));
      const near = await q.client.query(name, { query: [0, 0], limit: 10, score_threshold: 2 });
      expect(ids(near.points)).toEqual([1, 3]);
    }
  });

  it('returns float32 scores and orders ties by id', async () => {
    const name = q.collectionName('ties');
    await q.client.createCollection(name, { vectors: { size: 3, distance: 'Cosine' } });
    const uuid = '00000000-0000-4000-8000-000000000001';
    await q.client.upsert(name, {
      wait: true,
      points: [7, uuid, 3, 11, 5].map((id) => ({ id, vector: [0.1, 0.2, 0.3] })),
    });
    const res = await q.client.query(name, { query: [0.3, 0.1, 0.7], limit: 10 });
    expect(ids(res.points)).toEqual([3, 5, 7, 11, uuid]);
    // A float32 score prints as the shortest decimal that reads back as the same float32.
    const shortestFloat32 = (x: number) => {
      const f = Math.fround(x);
      for (let precision = 1; precision < 10; precision++) {
        const candidate = Number(f.toPrecision(precision));
        if (Math.fround(candidate) === f) return candidate;
      }
      return f;
    };
    for (const p of res.points) expect(p.score).toBe(shortestFloat32(p.score));
    expect(new Set(res.points.map((p) => p.score)).size).toBe(1);
  });

  it('queries by point id (excluding that point), with a named vector, filter, limit and offset', async () => {
    const name = q.collectionName('byid');
    await q.client.createCollection(name, {
      vectors: { a: { size: 2, distance: 'Cosine' }, b: { size: 2, distance: 'Dot' } },
    });
    await q.client.upsert(name, {
      wait: true,
      points: [1, 2, 3, 4, 5].map((id) => ({
        id,
        vector: { a: [1, id / 10], b: [id, 0] },
        payload: { odd: id % 2 === 1, id },
      })),
    });
    const byId = await q.client.query(name, { query: 3, using: 'a', limit: 10 });
    expect(ids(byId.points)).not.toContain(3);
    expect(ids(byId.points)).toHaveLength(4);
    expect(ids(byId.points).slice(0, 2).sort()).toEqual([2, 4]);
    const named = await q.client.query(name, {
      query: { nearest: [1, 0] },
      using: 'b',
      limit: 2,
      offset: 1,
    });
    expect(ids(named.points)).toEqual([4, 3]);
    const filtered = await q.client.query(name, {
      query: [1, 0],
      using: 'b',
      filter: { must: [{ key: 'odd', match: { value: true } }] },
      limit: 10,
    });
    expect(ids(filtered.points)).toEqual([5, 3, 1]);
    const missing = await q.raw('POST', `/collections/${name}/points/query`, {
      query: 999,
      using: 'a',
    });
    expect(missing.status).toBe(404);
  });

  it('leaves payload and vector out unless asked for', async () => {
    const name = q.collectionName('with');
    await q.client.createCollection(name, { vectors: { size: 2, distance: 'Dot' } });
    await q.client.upsert(name, {
      wait: true,
      points: [{ id: 1, vector: [1, 2], payload: { a: 1, b: 2 } }],
    });
    const bare = await q.client.query(name, { query: [1, 1] });
    expect(bare.points[0].payload ?? null).toBeNull();
    expect(bare.points[0].vector ?? null).toBeNull();
    expect(bare.points[0].version).toEqual(expect.any(Number));
    const full = await q.client.query(name, {
      query: [1, 1],
      with_payload: ['a'],
      with_vector: true,
    });
    expect(full.points[0].payload).toEqual({ a: 1 });
    expect(full.points[0].vector).toEqual([1, 2]);
  });

  it('rejects a query vector of the wrong dimension and a zero limit', async () => {
    const name = q.collectionName('qerr');
    await q.client.createCollection(name, { vectors: { size: 4, distance: 'Cosine' } });
    const dim = await q.raw('POST', `/collections/${name}/points/query`, { query: [1, 2, 3] });
    expect(dim.status).toBe(400);
    expect(dim.body.status.error).toBe(
      'Wrong input: Vector dimension error: expected dim: 4, got 3',
    );
    const zero = await q.raw(
      'POST',
      `/collections/${name}/points/query`,
      { query: [1, 2, 3, 4], limit: 0 },
      { invalidRequest: true },
    );
    expect(zero.status).toBe(422);
    expect(zero.body.status.error).toMatch(/^Validation error in JSON body: \[.*limit.*\]$/);
  });

  it('searches sparse vectors and fuses prefetches with rrf', async () => {
    const name = q.collectionName('hybrid');
    await q.client.createCollection(name, {
      vectors: { dense: { size: 2, distance: 'Cosine' } },
      sparse_vectors: { words: {} },
    });
    await q.client.upsert(name, {
      wait: true,
      points: [
        { id: 1, vector: { dense: [1, 0], words: { indices: [1, 2], values: [1, 1] } } },
        { id: 2, vector: { dense: [0.9, 0.1], words: { indices: [3], values: [1] } } },
        { id: 3, vector: { dense: [0, 1], words: { indices: [1], values: [3] } } },
      ],
    });
    const sparse = await q.client.query(name, {
      query: { indices: [1], values: [1] },
      using: 'words',
      limit: 10,
    });
    expect(ids(sparse.points)).toEqual([3, 1]);
    expect(sparse.points[0].score).toBeCloseTo(3, 6);
    const fused = await q.client.query(name, {
      prefetch: [
        { query: [1, 0], using: 'dense', limit: 2 },
        { query: { indices: [1], values: [1] }, using: 'words', limit: 2 },
      ],
      query: { fusion: 'rrf' },
      limit: 3,
    });
    // Point 1 is in both candidate lists, so it ranks first.
    expect(fused.points[0].id).toBe(1);
    expect(ids(fused.points).sort()).toEqual([1, 2, 3]);
  });

  it('serves the 1.18 points/search endpoint', async () => {
    const name = q.collectionName('search');
    await q.client.createCollection(name, { vectors: { size: 2, distance: 'Dot' } });
    await q.client.upsert(name, {
      wait: true,
      points: [1, 2, 3].map((id) => ({ id, vector: [id, 1], payload: { id } })),
    });
    const res = await q.raw('POST', `/collections/${name}/points/search`, {
      vector: [1, 0],
      limit: 2,
      with_payload: true,
    });
    expect(res.status).toBe(200);
    expect(res.body.result.map((p: { id: number }) => p.id)).toEqual([3, 2]);
    expect(res.body.result[0].payload).toEqual({ id: 3 });
  });

  it('returns exactly the brute-force top k over thousands of points, with and without filters', async () => {
    const name = q.collectionName('exact');
    const dim = 32;
    const count = 10_000;
    await q.client.createCollection(name, { vectors: { size: dim, distance: 'Cosine' } });
    const next = rng(7);
    const stored: Float64Array[] = [];
    for (let start = 0; start < count; start += 2_000) {
      const points = [];
      for (let id = start; id < start + 2_000; id++) {
        const v = Array.from({ length: dim }, () => next() * 2 - 1);
        const norm = Math.hypot(...v);
        stored.push(Float64Array.from(v, (x) => x / norm));
        points.push({ id, vector: v, payload: { bucket: id % 10 } });
      }
      await q.client.upsert(name, { wait: true, points });
    }
    const bruteForce = (query: number[], k: number, accept: (id: number) => boolean) => {
      const norm = Math.hypot(...query);
      const scored = stored
        .map((v, id) => ({ id, score: v.reduce((s, x, i) => s + x * (query[i] / norm), 0) }))
        .filter((h) => accept(h.id))
        .sort((a, b) => b.score - a.score || a.id - b.id);
      return scored.slice(0, k);
    };
    for (let round = 0; round < 5; round++) {
      const query = Array.from({ length: dim }, () => next() * 2 - 1);
      const expected = bruteForce(query, 20, () => true);
      const got = await q.client.query(name, { query, limit: 20, params: { exact: true } });
      expect(ids(got.points)).toEqual(expected.map((h) => h.id));
      got.points.forEach((p, i) => expect(p.score).toBeCloseTo(expected[i].score, 5));

      const filtered = await q.client.query(name, {
        query,
        limit: 15,
        params: { exact: true },
        filter: { must: [{ key: 'bucket', range: { lt: 7 } }] },
      });
      expect(ids(filtered.points)).toEqual(
        bruteForce(query, 15, (id) => id % 10 < 7).map((h) => h.id),
      );

      const threshold = (expected[9].score + expected[10].score) / 2;
      const thresholded = await q.client.query(name, {
        query,
        limit: 50,
        score_threshold: threshold,
        params: { exact: true },
      });
      expect(ids(thresholded.points)).toEqual(expected.slice(0, 10).map((h) => h.id));
    }
  });
});
