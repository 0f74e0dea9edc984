import type { NestExpressApplication } from '@nestjs/platform-express';
import { loadConfig } from '@quarry/config';
import { DbService } from '@quarry/db';
import { ApiKeysService, SearchHit, SearchResponse } from '@quarry/documents';
import { EMBEDDER, Embedder } from '@quarry/pipeline';
import { createTestDatabase, TestDatabase } from '@quarry/testing';
import { QdrantGateway } from '@quarry/vector';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { DataSource } from 'typeorm';
import {
  seedCollection,
  seedDocument,
  SeedDocument,
} from '../../../libs/documents/test/search-support/search-seed';
import { createApiApp } from '../src/create-api-app';
import { SearchApiModule } from '../src/search/search-api.module';
import { dropQueuePrefix } from './support/api-harness';
import { httpRequest, HttpResult, isProblem } from './support/http-client';

const MODES = ['semantic', 'keyword', 'hybrid'] as const;

/**
 * POST /v1/search over HTTP against PostgreSQL and the Qdrant emulator: what may be
 * shown (completed, current generation, own documents only), paging, filters, and the
 * 400 problems for every malformed request.
 */
describe('api: POST /v1/search', () => {
  const suffix = randomBytes(4).toString('hex');
  const prefix = `quarry-test-search-${suffix}`;
  const collection = `quarry_test_search_${suffix}`;
  let db: TestDatabase;
  let app: NestExpressApplication;
  let baseUrl: string;
  let ds: DataSource;
  let vectors: QdrantGateway;
  let embedder: Embedder;
  let alice: string;
  let bob: string;
  let aliceCollection: string;
  let pagingCollection: string;
  let bobCollection: string;
  let visibleDoc: string;
  const hidden: Record<string, string> = {};

  const seed = (doc: SeedDocument) => seedDocument(ds, vectors, embedder, doc);
  const search = (key: string, body: object | string): Promise<HttpResult> =>
    httpRequest(baseUrl, '/v1/search', {
      method: 'POST',
      headers: { authorization: key },
      body,
    });
  const ok = async (key: string, body: object): Promise<SearchResponse> => {
    const res = await search(key, body);
    if (res.status !== 200) throw new Error(`search answered ${res.status}: ${res.text}`);
    return res.json<SearchResponse>();
  };

  beforeAll(async () => {
    db = await createTestDatabase('api_search');
    const config = loadConfig({
      app: 'api',
      env: {},
      overrides: {
        NODE_ENV: 'test',
        DATABASE_URL: db.url,
        REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
        QUEUE_PREFIX: prefix,
        QDRANT_URL: process.env.QDRANT_URL ?? 'http://127.0.0.1:6333',
        QDRANT_COLLECTION: collection,
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
        LOG_PRETTY: false,
      },
    });
    app = await createApiApp(config, { extraModules: [SearchApiModule] });
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    ds = app.get(DbService).dataSource;
    vectors = app.get(QdrantGateway);
    embedder = app.get<Embedder>(EMBEDDER);
    await vectors.bootstrap();
    const keys = app.get(ApiKeysService);
    alice = `Bearer ${(await keys.create({ ownerId: 'alice' })).key}`;
    bob = `Bearer ${(await keys.create({ ownerId: 'bob' })).key}`;
    aliceCollection = await seedCollection(ds, 'alice');
    pagingCollection = await seedCollection(ds, 'alice', 'paging');
    bobCollection = await seedCollection(ds, 'bob');

    const secret = ['the quokka ledger protocol settles zebra invoices overnight'];
    visibleDoc = (
      await seed({
        ownerId: 'alice',
        collectionId: aliceCollection,
        filename: 'visible.txt',
        chunks: secret,
        metadata: { team: 'infra', year: 2026 },
      })
    ).id;
    // the same words in every state that must stay invisible, points and rows both present
    for (const status of ['pending', 'processing', 'failed', 'deleting', 'deleted'] as const) {
      hidden[status] = (
        await seed({
          ownerId: 'alice',
          collectionId: aliceCollection,
          status,
          generation: status.startsWith('delet') ? 1 : 0,
          chunkGeneration: 0,
          filename: `${status}.txt`,
          chunks: secret,
        })
      ).id;
    }
    // completed, but these rows and points are of the previous generation
    hidden['old-generation'] = (
      await seed({
        ownerId: 'alice',
        collectionId: aliceCollection,
        generation: 2,
        chunkGeneration: 1,
        filename: 'old-generation.txt',
        chunks: secret,
      })
    ).id;
    // points whose chunk rows are gone
    hidden['orphan-points'] = (
      await seed({
        ownerId: 'alice',
        collectionId: aliceCollection,
        rows: false,
        filename: 'orphan.txt',
        chunks: secret,
      })
    ).id;
    // another owner's identical content
    hidden.bob = (
      await seed({
        ownerId: 'bob',
        collectionId: bobCollection,
        filename: 'bob.txt',
        chunks: secret,
      })
    ).id;

    // Korean: particles attached to the word
    await seed({
      ownerId: 'alice',
      collectionId: aliceCollection,
      filename: 'debian-ko.md',
      mimeType: 'text/markdown',
      metadata: { team: 'docs', year: 2025 },
      createdAt: new Date('2025-06-01T00:00:00Z'),
      chunks: ['데비안을 설치한 뒤에는 apt로 꾸러미를 관리한다. 데비안의 안정판은 느리게 바뀐다.'],
    });

    // 40 chunks for paging: related words so every mode ranks them all
    const paging = Array.from(
      { length: 40 },
      (_, i) => `harbor crane schedule ${i} lists vessel berth ${i % 7} and cargo tide ${i % 5}`,
    );
    for (let d = 0; d < 4; d++) {
      await seed({
        ownerId: 'alice',
        collectionId: pagingCollection,
        filename: `harbor-${d}.txt`,
        chunks: paging.slice(d * 10, d * 10 + 10),
      });
    }
  });

  afterAll(async () => {
    await app?.close().catch(() => undefined);
    await db?.drop().catch(() => undefined);
    await dropQueuePrefix(prefix).catch(() => undefined);
    const qdrant = process.env.QDRANT_URL ?? 'http://127.0.0.1:6333';
    await fetch(`${qdrant}/collections/${collection}`, { method: 'DELETE' }).catch(() => undefined);
  });

  it.each(MODES)(
    '%s: only the completed, current, own document answers although Qdrant holds the others',
    async (mode) => {
      // Qdrant really holds the hidden documents' points
      for (const name of ['pending', 'processing', 'deleting', 'deleted', 'orphan-points']) {
        await expect(vectors.countByDocument(hidden[name])).resolves.toBe(1);
      }
      const body = await ok(alice, {
        query: 'quokka ledger protocol zebra invoices',
        mode,
        limit: 50,
      });
      const documents = new Set(body.results.map((r) => r.document.id));
      expect(documents.has(visibleDoc)).toBe(true);
      for (const id of Object.values(hidden)) expect(documents.has(id)).toBe(false);
      expect(body.mode).toBe(mode);
      const first = body.results.find((r) => r.document.id === visibleDoc) as SearchHit;
      expect(first).toMatchObject({
        text: expect.stringContaining('quokka'),
        page: 1,
        document: {
          filename: 'visible.txt',
          collection_id: aliceCollection,
          metadata: { team: 'infra', year: 2026 },
        },
      });
      expect(first.highlights.length).toBeGreaterThan(0);
      expect(typeof body.took_ms).toBe('number');
    },
  );

  it.each(MODES)("%s: another owner's identical content never comes back", async (mode) => {
    const asBob = await ok(bob, { query: 'quokka ledger protocol', mode, limit: 50 });
    expect(asBob.results.map((r) => r.document.id)).toEqual([hidden.bob]);
    // even naming alice's collection does not reach into it
    const named = await ok(bob, {
      query: 'quokka ledger protocol',
      mode,
      collection_ids: [aliceCollection],
    });
    expect(named.results).toEqual([]);
  });

  // Small pages make keyword search answer from its tiers of partial matches (chunks
  // holding all but one of the words), which must stay within the owner as well.
  it.each(MODES)("%s: another owner's content stays out of pages of one", async (mode) => {
    const documents: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: SearchResponse = await ok(bob, {
        query: 'quokka ledger protocol',
        mode,
        limit: 1,
        ...(cursor ? { cursor } : {}),
      });
      documents.push(...page.results.map((r) => r.document.id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor && pages < 20);
    expect(documents).toEqual([hidden.bob]);
  });

  it('keyword: a Korean word with a particle finds the stem and marks it', async () => {
    for (const query of ['데비안은', '데비안을', '데비안이 무엇인가']) {
      const body = await ok(alice, { query, mode: 'keyword' });
      expect(body.results.map((r) => r.document.filename)).toContain('debian-ko.md');
      const hit = body.results[0];
      const marked = hit.highlights.map((h) => hit.text.slice(h.start, h.end));
      expect(marked).toContain('데비안');
    }
  });

  it('keyword: chunks holding more of the query words rank first; Korean stems match inside words', async () => {
    const words = await seedCollection(ds, 'alice', 'words');
    await seed({
      ownerId: 'alice',
      collectionId: words,
      filename: 'tiers.txt',
      chunks: [
        'marmot lantern',
        'marmot lantern orchard',
        'marmot marmot marmot',
        '우리는 데비안리눅스배포판을 쓴다',
      ],
    });
    const tiers = await ok(alice, {
      query: 'marmot lantern orchard',
      mode: 'keyword',
      collection_ids: [words],
    });
    expect(tiers.results.map((r) => r.text)).toEqual([
      'marmot lantern orchard',
      'marmot lantern',
      'marmot marmot marmot',
    ]);
    // one result a page walks the same list across the tiers
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const page: SearchResponse = await ok(alice, {
        query: 'marmot lantern orchard',
        mode: 'keyword',
        collection_ids: [words],
        limit: 1,
        ...(cursor ? { cursor } : {}),
      });
      paged.push(...page.results.map((r) => r.text));
      cursor = page.next_cursor;
    } while (cursor && paged.length < 10);
    expect(paged).toEqual(tiers.results.map((r) => r.text));
    const inner = await ok(alice, {
      query: '리눅스배포판은',
      mode: 'keyword',
      collection_ids: [words],
    });
    expect(inner.results.map((r) => r.text)).toEqual(['우리는 데비안리눅스배포판을 쓴다']);
  });

  it.each(MODES)('%s: cursor pages have no duplicates and no gaps', async (mode) => {
    const query = 'harbor crane schedule vessel berth cargo tide';
    const whole = await ok(alice, { query, mode, collection_ids: [pagingCollection], limit: 100 });
    expect(whole.results).toHaveLength(40);
    const seen: SearchHit[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: SearchResponse = await ok(alice, {
        query,
        mode,
        collection_ids: [pagingCollection],
        limit: 7,
        ...(cursor ? { cursor } : {}),
      });
      seen.push(...page.results);
      cursor = page.next_cursor;
      pages++;
    } while (cursor && pages < 20);
    expect(pages).toBe(6);
    expect(seen.map((r) => r.chunk_id)).toEqual(whole.results.map((r) => r.chunk_id));
    expect(seen.map((r) => r.rank)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    // ordered by score, then chunk id
    for (let i = 1; i < seen.length; i++) {
      const [a, b] = [seen[i - 1], seen[i]];
      expect(a.score > b.score || (a.score === b.score && a.chunk_id < b.chunk_id)).toBe(true);
    }
    // offset reaches the same results
    const third = await ok(alice, {
      query,
      mode,
      collection_ids: [pagingCollection],
      limit: 7,
      offset: 14,
    });
    expect(third.results.map((r) => r.chunk_id)).toEqual(
      whole.results.slice(14, 21).map((r) => r.chunk_id),
    );
  });

  it.each(MODES)('%s: metadata, mime_type and created_at filters', async (mode) => {
    const query = '데비안 quokka ledger';
    const infra = await ok(alice, { query, mode, filter: { metadata: { team: 'infra' } } });
    expect(infra.results.map((r) => r.document.id)).toEqual([visibleDoc]);
    const either = await ok(alice, {
      query,
      mode,
      filter: { metadata: { year: { in: [2025, 2026] } } },
    });
    expect(new Set(either.results.map((r) => r.document.filename))).toEqual(
      new Set(['visible.txt', 'debian-ko.md']),
    );
    const markdown = await ok(alice, { query, mode, filter: { mime_type: ['text/markdown'] } });
    expect(markdown.results.map((r) => r.document.filename)).toEqual(['debian-ko.md']);
    const before = await ok(alice, {
      query,
      mode,
      filter: { created_at: { lte: '2025-12-31T00:00:00Z' } },
    });
    expect(before.results.map((r) => r.document.filename)).toEqual(['debian-ko.md']);
    const none = await ok(alice, { query, mode, filter: { metadata: { team: 'nobody' } } });
    expect(none.results).toEqual([]);
  });

  it('semantic: score_threshold drops weaker chunks', async () => {
    const all = await ok(alice, { query: 'harbor crane', mode: 'semantic', limit: 100 });
    const cut = all.results[4].score;
    const some = await ok(alice, {
      query: 'harbor crane',
      mode: 'semantic',
      limit: 100,
      score_threshold: cut,
    });
    expect(some.results.length).toBeGreaterThanOrEqual(5);
    expect(some.results.length).toBeLessThan(all.results.length);
    expect(some.results.every((r) => r.score >= cut)).toBe(true);
  });

  it('GET /v1/documents/:id/similar finds the documents nearest to one', async () => {
    const [first] = (
      await ok(alice, {
        query: 'harbor crane',
        mode: 'keyword',
        collection_ids: [pagingCollection],
      })
    ).results;
    const res = await httpRequest(baseUrl, `/v1/documents/${first.document.id}/similar?limit=3`, {
      headers: { authorization: alice },
    });
    expect(res.status).toBe(200);
    const body = res.json<{ results: { document: { id: string; filename: string } }[] }>();
    expect(body.results).toHaveLength(3);
    expect(body.results.every((r) => r.document.filename.startsWith('harbor-'))).toBe(true);
    expect(body.results.map((r) => r.document.id)).not.toContain(first.document.id);
    const missing = await httpRequest(baseUrl, `/v1/documents/${hidden.bob}/similar`, {
      headers: { authorization: alice },
    });
    expect(isProblem(missing, 404)).toBe(true);
  });

  const badRequests: [string, object | string][] = [
    ['an empty query', { query: '' }],
    ['a whitespace query', { query: '   \n\t' }],
    ['a missing query', { mode: 'keyword' }],
    ['limit 0', { query: 'x', limit: 0 }],
    ['limit 101', { query: 'x', limit: 101 }],
    ['a fractional limit', { query: 'x', limit: 2.5 }],
    ['an unknown mode', { query: 'x', mode: 'fuzzy' }],
    ['an unknown field', { query: 'x', sort: 'date' }],
    ['a filter that is not an object', { query: 'x', filter: 'team=infra' }],
    ['an unknown filter field', { query: 'x', filter: { owner_id: 'bob' } }],
    ['a nested metadata value', { query: 'x', filter: { metadata: { team: { eq: 'a' } } } }],
    ['an empty in list', { query: 'x', filter: { metadata: { team: { in: [] } } } }],
    ['a bad created_at', { query: 'x', filter: { created_at: { gte: 'yesterday' } } }],
    ['a bad mime_type', { query: 'x', filter: { mime_type: 42 } }],
    ['collection ids that are not UUIDs', { query: 'x', collection_ids: ['abc'] }],
    ['a negative offset', { query: 'x', offset: -1 }],
    ['a forged cursor', { query: 'x', cursor: 'bm90IGEgY3Vyc29y' }],
    ['cursor and offset together', { query: 'x', cursor: 'abc', offset: 3 }],
    ['malformed JSON', '{"query": '],
  ];

  it.each(badRequests)('answers %s with a 400 problem', async (_name, body) => {
    const res = await search(alice, body);
    expect(isProblem(res, 400)).toBe(true);
  });

  it("refuses another search's cursor", async () => {
    const first = await ok(alice, {
      query: 'harbor crane',
      mode: 'keyword',
      limit: 2,
      collection_ids: [pagingCollection],
    });
    expect(first.next_cursor).toEqual(expect.any(String));
    const res = await search(alice, {
      query: 'quokka',
      mode: 'keyword',
      cursor: first.next_cursor,
    });
    expect(isProblem(res, 400)).toBe(true);
    expect(res.json().detail).toMatch(/cursor/);
  });

  it('needs an API key', async () => {
    const res = await httpRequest(baseUrl, '/v1/search', {
      method: 'POST',
      body: { query: 'quokka' },
    });
    expect(isProblem(res, 401)).toBe(true);
  });
});
