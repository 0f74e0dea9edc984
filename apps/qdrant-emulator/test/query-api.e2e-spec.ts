import { QdrantFixture, useQdrantFixture } from './qdrant-fixture';

/** Dot product in two dimensions, so every expected score can be worked out by hand. */
describe('query API beyond nearest', () => {
  const fixture = useQdrantFixture();
  let q: QdrantFixture;
  let name: string;

  beforeAll(async () => {
    q = fixture();
    name = q.collectionName('queryapi');
    await q.client.createCollection(name, { vectors: { size: 2, distance: 'Dot' } });
    await q.client.createPayloadIndex(name, {
      field_name: 'rank',
      field_schema: 'integer',
      wait: true,
    });
    await q.client.upsert(name, {
      wait: true,
      points: [
        { id: 1, vector: [1, 0], payload: { g: 'a', rank: 30 } },
        { id: 2, vector: [0.8, 0.2], payload: { g: 'a', rank: 10 } },
        { id: 3, vector: [0, 1], payload: { g: 'b', rank: 50 } },
        { id: 4, vector: [0.5, 0.5], payload: { g: 'b', rank: 20 } },
        { id: 5, vector: [-1, 0], payload: { g: 'c', rank: 40 } },
      ],
    });
  });

  const ids = (points: Array<{ id: string | number }>) => points.map((p) => p.id);
  const scores = (points: Array<{ score: number }>) => points.map((p) => p.score);

  it('recommends by average vector, leaving the examples out', async () => {
    // query = 2·[1,0] − [0,1] = [2,−1]
    const res = await q.client.query(name, {
      query: { recommend: { positive: [1], negative: [3] } },
    });
    expect(ids(res.points)).toEqual([2, 4, 5]);
    expect(res.points[0].score).toBeCloseTo(1.4, 5);
  });

  it('recommends by best score and by summed scores', async () => {
    const best = await q.client.query(name, {
      query: { recommend: { positive: [1], negative: [3], strategy: 'best_score' } },
    });
    // closer to a positive: sigmoid of its similarity; else minus the sigmoid of the negative's
    expect(ids(best.points)).toEqual([2, 5, 4]);
    expect(scores(best.points)[0]).toBeCloseTo(0.5 * (0.8 / 1.8 + 1), 5);
    expect(scores(best.points)[1]).toBeCloseTo(-0.5, 5);
    const sum = await q.client.query(name, {
      query: { recommend: { positive: [1], negative: [3], strategy: 'sum_scores' } },
    });
    expect(ids(sum.points)).toEqual([2, 4, 5]);
    expect(scores(sum.points)).toEqual([
      expect.closeTo(0.6, 5),
      expect.closeTo(0, 5),
      expect.closeTo(-1, 5),
    ]);
  });

  it('discovers within context pairs and ranks by context alone', async () => {
    const found = await q.client.query(name, {
      query: { discover: { target: [1, 0], context: [{ positive: 4, negative: 5 }] } },
    });
    expect(ids(found.points)).toEqual([1, 2, 3]);
    expect(found.points[0].score).toBeCloseTo(1.75, 5);
    const ctx = await q.client.query(name, {
      query: { context: [{ positive: [1, 0], negative: [0, 1] }] },
    });
    expect([...ids(ctx.points).slice(0, 2)].sort()).toEqual([1, 2]);
    expect(ids(ctx.points)[2]).toBe(4);
    expect(scores(ctx.points).slice(0, 3)).toEqual([0, 0, expect.closeTo(0, 5)]);
    expect(scores(ctx.points).slice(3)).toEqual([expect.closeTo(-0.5, 5), expect.closeTo(-0.5, 5)]);
  });

  it('reranks nearest candidates by maximal marginal relevance, keeping their scores', async () => {
    const diverse = await q.client.query(name, {
      query: { nearest: [1, 0], mmr: { diversity: 0.8, candidates_limit: 5 } },
      limit: 3,
    });
    // 1 first; then λ = 0.2 favours what is least like the chosen: 5 ([-1, 0]), then 3
    expect(ids(diverse.points)).toEqual([1, 5, 3]);
    expect(scores(diverse.points)).toEqual([
      expect.closeTo(1, 5),
      expect.closeTo(-1, 5),
      expect.closeTo(0, 5),
    ]);
    const relevant = await q.client.query(name, {
      query: { nearest: [1, 0], mmr: { diversity: 0 } },
      limit: 3,
    });
    expect(ids(relevant.points)).toEqual([1, 2, 4]);
    const outOfRange = await q.raw(
      'POST',
      `/collections/${name}/points/query`,
      { query: { nearest: [1, 0], mmr: { diversity: 2 } } },
      { invalidRequest: true },
    );
    expect(outOfRange.status).toBe(422);
    expect(outOfRange.body.status.error).toMatch(/^Validation error in JSON body: \[.*diversity/);
  });

  it('orders by a payload value, with direction and start_from', async () => {
    const desc = await q.client.query(name, {
      query: { order_by: { key: 'rank', direction: 'desc' } },
      with_payload: true,
    });
    expect(ids(desc.points)).toEqual([3, 5, 1, 4, 2]);
    expect(desc.points.map((p) => p.order_value)).toEqual([50, 40, 30, 20, 10]);
    const asc = await q.client.query(name, {
      query: { order_by: { key: 'rank', start_from: 20 } },
      limit: 2,
    });
    expect(ids(asc.points)).toEqual([4, 1]);
    const unindexed = await q.raw('POST', `/collections/${name}/points/query`, {
      query: { order_by: 'g' },
    });
    expect(unindexed.status).toBe(400);
    expect(unindexed.body.status.error).toMatch(/^Bad request: /);
  });

  it('samples random points without repeats', async () => {
    const some = await q.client.query(name, { query: { sample: 'random' }, limit: 3 });
    expect(new Set(ids(some.points)).size).toBe(3);
    const all = await q.client.query(name, { query: { sample: 'random' }, limit: 10 });
    expect([...ids(all.points)].sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('fuses prefetches by weighted rrf and by dbsf', async () => {
    const prefetch = [
      { query: [1, 0], limit: 3 }, // 1, 2, 4
      { query: [0, 1], limit: 3 }, // 3, 4, 2
    ];
    const weighted = await q.client.query(name, {
      prefetch,
      query: { rrf: { weights: [3, 1] } },
    });
    // 1: 3/3; 2: 3/4 + 1/5; 4: 3/5 + 1/4; 3: 1/3
    expect(ids(weighted.points)).toEqual([1, 2, 4, 3]);
    expect(weighted.points[1].score).toBeCloseTo(0.95, 5);
    const dbsf = await q.client.query(name, { prefetch, query: { fusion: 'dbsf' } });
    expect(ids(dbsf.points)).toEqual([2, 4, 3, 1]);
    const unknown = await q.raw(
      'POST',
      `/collections/${name}/points/query`,
      { prefetch, query: { fusion: 'max' } },
      { invalidRequest: true },
    );
    expect(unknown.status).toBe(400);
    expect(unknown.body.status.error).toMatch(/^Format error in JSON body: /);
  });

  it('rescores prefetched points with a formula of scores, payload values and conditions', async () => {
    const prefetch = [
      { query: [1, 0], limit: 5 },
      { query: [0, 1], limit: 5 },
    ];
    // score = $score[0] + 0.01·rank + 0.5·(g == "b")
    const boosted = await q.client.query(name, {
      prefetch,
      query: {
        formula: {
          sum: [
            '$score[0]',
            { mult: [0.01, 'rank'] },
            { mult: [0.5, { key: 'g', match: { value: 'b' } }] },
          ],
        },
      },
    });
    // 1: 1 + .3; 2: .8 + .1; 3: 0 + .5 + .5; 4: .5 + .2 + .5; 5: −1 + .4
    expect(ids(boosted.points)).toEqual([1, 4, 3, 2, 5]);
    expect(scores(boosted.points)).toEqual([
      expect.closeTo(1.3, 5),
      expect.closeTo(1.2, 5),
      expect.closeTo(1, 5),
      expect.closeTo(0.9, 5),
      expect.closeTo(-0.6, 5),
    ]);
    const decayed = await q.client.query(name, {
      prefetch: { query: [1, 0], limit: 5 },
      query: {
        formula: { lin_decay: { x: 'rank', target: 30, scale: 10, midpoint: 0.5 } },
      },
      limit: 3,
    });
    // 1 − 0.05·|rank − 30|: 1 → 1, 4 and 5 → 0.5
    expect(ids(decayed.points)[0]).toBe(1);
    expect([...ids(decayed.points).slice(1)].sort()).toEqual([4, 5]);
    expect(scores(decayed.points)).toEqual([1, 0.5, 0.5]);
    const divided = await q.client.query(name, {
      prefetch: { query: [1, 0], limit: 5 },
      query: {
        formula: { div: { left: 'rank', right: { sum: ['$score', -1] }, by_zero_default: 7 } },
      },
      limit: 1,
    });
    expect(ids(divided.points)).toEqual([1]);
    expect(divided.points[0].score).toBe(7);
  });

  it('scores by datetime and geo distance in a formula', async () => {
    const places = q.collectionName('places');
    await q.client.createCollection(places, { vectors: { size: 2, distance: 'Dot' } });
    await q.client.upsert(places, {
      wait: true,
      points: [
        { id: 1, vector: [1, 0], payload: { at: '2025-01-01T00:00:00Z', pos: { lat: 0, lon: 0 } } },
        { id: 2, vector: [1, 0], payload: { at: '2025-01-03T00:00:00Z', pos: { lat: 0, lon: 1 } } },
      ],
    });
    const fresh = await q.client.query(places, {
      prefetch: { query: [1, 0], limit: 2 },
      query: {
        formula: {
          exp_decay: {
            x: { datetime_key: 'at' },
            target: { datetime: '2025-01-03T00:00:00Z' },
            scale: 86400,
            midpoint: 0.5,
          },
        },
      },
    });
    // two days from the target halve twice
    expect(ids(fresh.points)).toEqual([2, 1]);
    expect(scores(fresh.points)).toEqual([expect.closeTo(1, 5), expect.closeTo(0.25, 5)]);
    const near = await q.client.query(places, {
      prefetch: { query: [1, 0], limit: 2 },
      query: { formula: { geo_distance: { origin: { lat: 0, lon: 1 }, to: 'pos' } } },
    });
    // one degree of longitude at the equator is about 111 km
    expect(ids(near.points)).toEqual([1, 2]);
    expect(near.points[0].score).toBeGreaterThan(111_000);
    expect(near.points[0].score).toBeLessThan(111_400);
    expect(near.points[1].score).toBe(0);
  });

  it('looks example vectors up in another collection, and 404s when it is missing', async () => {
    const other = q.collectionName('lookup');
    await q.client.createCollection(other, { vectors: { size: 2, distance: 'Dot' } });
    await q.client.upsert(other, { wait: true, points: [{ id: 100, vector: [0, 1] }] });
    const res = await q.client.query(name, {
      query: 100,
      lookup_from: { collection: other },
      limit: 3,
    });
    expect(ids(res.points)).toEqual([3, 4, 2]);
    const missing = await q.raw('POST', `/collections/${name}/points/query`, {
      query: { recommend: { positive: [100] } },
      lookup_from: { collection: `${other}_gone` },
    });
    expect(missing.status).toBe(404);
    expect(missing.body.status.error).toMatch(/^Not found: /);
  });

  it("refuses malformed queries with Qdrant's status and error shape", async () => {
    const post = (body: unknown) =>
      q.raw('POST', `/collections/${name}/points/query`, body, { invalidRequest: true });
    const cases: Array<[unknown, number, RegExp]> = [
      [{ query: { closest: [1, 0] } }, 400, /^Format error in JSON body: /],
      [{ query: { recommend: { positive: [1], strategy: 'best' } } }, 400, /^Format error/],
      [{ query: { sample: 'first' } }, 400, /^Format error in JSON body: /],
      [{ query: [1, 0], using: 'nothing' }, 400, /^Wrong input: .*nothing/],
      [{ query: { recommend: { positive: [999] } } }, 404, /^Not found: /],
      [{ query: [1, 0], offset: -1 }, 400, /^Format error in JSON body: /],
      [{ prefetch: { query: [1, 0], limit: 0 }, query: { fusion: 'rrf' } }, 422, /limit/],
    ];
    for (const [body, status, message] of cases) {
      const res = await post(body);
      expect([JSON.stringify(body), res.status]).toEqual([JSON.stringify(body), status]);
      expect(res.body.status.error).toMatch(message);
      expect(typeof res.body.time).toBe('number');
    }
  });

  it('groups query results by a payload value', async () => {
    const res = await q.client.queryGroups(name, {
      query: [1, 0],
      group_by: 'g',
      group_size: 1,
      limit: 2,
    });
    expect(res.groups.map((g) => [g.id, ids(g.hits)])).toEqual([
      ['a', [1]],
      ['b', [4]],
    ]);
  });

  it('looks each group up by its id in another collection', async () => {
    const ranks = q.collectionName('ranks');
    await q.client.createCollection(ranks, { vectors: { size: 2, distance: 'Dot' } });
    await q.client.upsert(ranks, {
      wait: true,
      points: [
        { id: 30, vector: [1, 1], payload: { title: 'thirty' } },
        { id: 20, vector: [1, 1], payload: { title: 'twenty' } },
      ],
    });
    const res = await q.client.queryGroups(name, {
      query: [1, 0],
      group_by: 'rank',
      group_size: 1,
      limit: 3,
      with_lookup: { collection: ranks, with_payload: true, with_vectors: false },
    });
    // ranks by score: 1 (30), 2 (10), 4 (20)
    expect(
      res.groups.map((g) => [
        g.id,
        (g.lookup?.payload as { title?: string } | null | undefined)?.title ?? null,
      ]),
    ).toEqual([
      [30, 'thirty'],
      [10, null],
      [20, 'twenty'],
    ]);
    const missing = await q.raw('POST', `/collections/${name}/points/query/groups`, {
      query: [1, 0],
      group_by: 'rank',
      with_lookup: `${ranks}_gone`,
    });
    expect(missing.status).toBe(404);
  });

  it('answers the older recommend, discover and group endpoints with a result', async () => {
    const reco = await q.raw('POST', `/collections/${name}/points/recommend`, {
      positive: [1],
      negative: [3],
      limit: 2,
    });
    expect(reco.status).toBe(200);
    expect(ids(reco.body.result)).toEqual([2, 4]);
    const batch = await q.raw('POST', `/collections/${name}/points/recommend/batch`, {
      searches: [
        { positive: [1], limit: 1 },
        { positive: [3], limit: 1 },
      ],
    });
    expect(batch.body.result.map(ids)).toEqual([[2], [4]]);
    const discovered = await q.raw('POST', `/collections/${name}/points/discover`, {
      target: [1, 0],
      context: [{ positive: 4, negative: 5 }],
      limit: 1,
    });
    expect(ids(discovered.body.result)).toEqual([1]);
    const searchGroups = await q.raw('POST', `/collections/${name}/points/search/groups`, {
      vector: [1, 0],
      group_by: 'g',
      group_size: 2,
      limit: 3,
    });
    expect(searchGroups.status).toBe(200);
    expect(
      searchGroups.body.result.groups.map((g: { id: string; hits: [] }) => [g.id, ids(g.hits)]),
    ).toEqual([
      ['a', [1, 2]],
      ['b', [4, 3]],
      ['c', [5]],
    ]);
    const recoGroups = await q.raw('POST', `/collections/${name}/points/recommend/groups`, {
      positive: [1],
      group_by: 'g',
      group_size: 1,
      limit: 1,
    });
    expect(recoGroups.body.result.groups).toEqual([
      { id: 'a', hits: [expect.objectContaining({ id: 2 })] },
    ]);
  });
});
