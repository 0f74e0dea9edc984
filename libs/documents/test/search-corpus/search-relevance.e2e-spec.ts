import type { INestApplicationContext } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadConfig } from '@quarry/config';
import { CoreModule } from '@quarry/core';
import { DbService } from '@quarry/db';
import { SEARCH_MODES, SearchMode, SearchModule, SearchService } from '@quarry/documents';
import { Chunker, DocumentExtractor, EMBEDDER, Embedder } from '@quarry/pipeline';
import { createTestDatabase, TestDatabase } from '@quarry/testing';
import { QdrantGateway } from '@quarry/vector';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { seedCollection, seedDocument } from '../search-support/search-seed';

interface Corpus {
  documents: string[];
  queries: { query: string; expected: string[] }[];
}

const corpus = JSON.parse(readFileSync(join(__dirname, 'corpus.json'), 'utf8')) as Corpus;
const FIXTURES = join(__dirname, '../../../pipeline/test/fixtures');
const DOCS = join(__dirname, 'docs');
const OWNER = 'relevance';

// Measured with the default hashing embedder (lexical, 384 buckets) and the default
// fusion (k = 60, keyword weight 1.5): semantic 0.975 / 0.952, keyword 1.000 / 1.000,
// hybrid 1.000 / 1.000 on 40 queries. A ranking change that drops below these bars is a
// regression.
const MINIMUM: Record<SearchMode, { hitAt3: number; mrr: number }> = {
  semantic: { hitAt3: 0.9, mrr: 0.9 },
  keyword: { hitAt3: 0.95, mrr: 0.95 },
  hybrid: { hitAt3: 0.95, mrr: 0.95 },
};

function pathOf(entry: string): { name: string; path: string } {
  const [where, name] = entry.split(':');
  return { name, path: join(where === 'fixtures' ? FIXTURES : DOCS, name) };
}

/**
 * Relevance on a small labelled corpus, through SearchService over PostgreSQL and the
 * Qdrant emulator: hit@3 and MRR per mode (by document, first chunk of each document
 * counting). Printed, and held to minimums.
 */
describe('search relevance on the labelled corpus', () => {
  const suffix = randomBytes(4).toString('hex');
  let db: TestDatabase;
  let app: INestApplicationContext;
  let search: SearchService;

  beforeAll(async () => {
    db = await createTestDatabase('search_relevance');
    const config = loadConfig({
      app: 'api',
      env: {},
      overrides: {
        NODE_ENV: 'test',
        DATABASE_URL: db.url,
        REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
        QUEUE_PREFIX: `quarry-test-relevance-${suffix}`,
        QDRANT_URL: process.env.QDRANT_URL ?? 'http://127.0.0.1:6333',
        QDRANT_COLLECTION: `quarry_test_relevance_${suffix}`,
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
        LOG_PRETTY: false,
        CHUNK_SIZE: 400,
        CHUNK_OVERLAP: 60,
      },
    });
    @Module({
      imports: [CoreModule.forRoot({ config, queueRole: 'producer' }), SearchModule.forRoot()],
    })
    class RelevanceModule {}
    app = await NestFactory.createApplicationContext(RelevanceModule, { logger: false });
    await app.init();
    search = app.get(SearchService);
    const ds = app.get(DbService).dataSource;
    const vectors = app.get(QdrantGateway);
    const embedder = app.get<Embedder>(EMBEDDER);
    const extractor = app.get(DocumentExtractor);
    const chunker = app.get(Chunker);
    const collectionId = await seedCollection(ds, OWNER, 'corpus');
    for (const entry of corpus.documents) {
      const { name, path } = pathOf(entry);
      const extracted = await extractor.extract(readFileSync(path), { filename: name });
      const chunks = chunker.chunkDocument(extracted).map((c) => c.text);
      await seedDocument(ds, vectors, embedder, {
        ownerId: OWNER,
        collectionId,
        filename: name,
        mimeType: extracted.mimeType,
        chunks,
      });
    }
  });

  afterAll(async () => {
    const qdrant = process.env.QDRANT_URL ?? 'http://127.0.0.1:6333';
    await fetch(`${qdrant}/collections/quarry_test_relevance_${suffix}`, {
      method: 'DELETE',
    }).catch(() => undefined);
    await app?.close().catch(() => undefined);
    await db?.drop().catch(() => undefined);
  });

  /** hit@3 and MRR of one mode, computed once and printed. */
  const evaluated = new Map<SearchMode, Promise<{ hitAt3: number; mrr: number }>>();
  const evaluate = (mode: SearchMode) => {
    let result = evaluated.get(mode);
    if (!result) {
      result = measure(mode);
      evaluated.set(mode, result);
    }
    return result;
  };

  async function measure(mode: SearchMode): Promise<{ hitAt3: number; mrr: number }> {
    let hits = 0;
    let reciprocal = 0;
    const notes: string[] = [];
    for (const { query, expected } of corpus.queries) {
      const { results } = await search.search(OWNER, { query, mode, limit: 50 });
      const documents = [...new Set(results.map((r) => r.document.filename))];
      const ranks = expected.map((name) => documents.indexOf(name) + 1);
      const best = Math.min(...ranks.map((r) => (r === 0 ? Infinity : r)));
      if (ranks.every((r) => r >= 1 && r <= 3)) hits++;
      else notes.push(`miss: ${query} → ${documents.slice(0, 3).join(', ')}`);
      if (best > 1) notes.push(`${query} → rank ${best}`);
      reciprocal += Number.isFinite(best) ? 1 / best : 0;
    }
    const n = corpus.queries.length;
    console.log(
      `${mode}: hit@3 ${(hits / n).toFixed(3)}  MRR ${(reciprocal / n).toFixed(3)}  (${n} queries)` +
        notes.map((line) => `\n  ${line}`).join(''),
    );
    return { hitAt3: hits / n, mrr: reciprocal / n };
  }

  it.each(SEARCH_MODES)('%s: hit@3 and MRR at or above the bar', async (mode) => {
    const score = await evaluate(mode);
    expect(score.hitAt3).toBeGreaterThanOrEqual(MINIMUM[mode].hitAt3);
    expect(score.mrr).toBeGreaterThanOrEqual(MINIMUM[mode].mrr);
  });

  it('hybrid at least matches the better single mode', async () => {
    const [semantic, keyword, hybrid] = await Promise.all(SEARCH_MODES.map(evaluate));
    expect(hybrid.hitAt3).toBeGreaterThanOrEqual(Math.max(semantic.hitAt3, keyword.hitAt3));
    expect(hybrid.mrr).toBeGreaterThanOrEqual(Math.max(semantic.mrr, keyword.mrr));
  });
});
