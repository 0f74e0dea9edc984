/*
 * Search latency over a collection of 100,000 chunks (1,000 documents of 100 chunks,
 * half English, half Korean, Zipf-distributed words): p50/p99 of each mode through the
 * api over HTTP (in-process createApiApp, keep-alive client, API key auth included),
 * beside the bare vector query (QdrantGateway.query alone) for the same queries in the
 * same run. Rows are written with multi-row INSERTs from arrays, points in batches.
 *   npm run bench:search   → bench/results/search.json
 * BENCH_CHUNKS, BENCH_QUERIES, QDRANT_URL (a real Qdrant instead of the emulator),
 * BENCH_KEEP_DB=true (keep the database to study query plans).
 */
import type { NestExpressApplication } from '@nestjs/platform-express';
import { loadConfig } from '@quarry/config';
import { DbService } from '@quarry/db';
import { ApiKeysService } from '@quarry/documents';
import { EMBEDDER, Embedder } from '@quarry/pipeline';
import {
  createTestDatabase,
  seededRandom,
  spawnQdrantEmulator,
  SpawnedQdrant,
} from '@quarry/testing';
import { pointIdFor, QdrantGateway } from '@quarry/vector';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createApiApp } from '../apps/api/src/create-api-app';
import { SearchApiModule } from '../apps/api/src/search/search-api.module';

const ROOT = resolve(__dirname, '..', '..');
const RESULTS = join(ROOT, 'bench', 'results', 'search.json');
const CHUNKS = Number(process.env.BENCH_CHUNKS ?? 100_000);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 200);
const WARMUP = 20;
const CHUNKS_PER_DOCUMENT = 100;
const LIMIT = 10;
const OWNER = 'bench';
const MODES = ['semantic', 'keyword', 'hybrid'] as const;

const random = seededRandom(7);
const LATIN = ['ka', 'lo', 'mi', 'ren', 'sta', 'vo', 'qui', 'ber', 'tan', 'dro', 'fel', 'nu'];
const PARTICLES = ['', '', '은', '는', '을', '를', '의', '에서', '으로', '이', '가'];

function word(parts: () => string, syllables: number): string {
  let w = '';
  for (let i = 0; i < syllables; i++) w += parts();
  return w;
}

/** Vocabularies ranked by frequency: Zipf's law picks rank r with weight 1 / r. */
function vocabulary(size: number, make: () => string): string[] {
  const seen = new Set<string>();
  while (seen.size < size) seen.add(make());
  return [...seen];
}
const english = vocabulary(6_000, () =>
  word(() => LATIN[Math.floor(random() * LATIN.length)], 2 + Math.floor(random() * 3)),
);
const korean = vocabulary(4_000, () =>
  word(
    () => String.fromCharCode(0xac00 + Math.floor(random() * 11_172)),
    2 + Math.floor(random() * 2),
  ),
);

function zipfSampler(size: number): () => number {
  const cumulative = new Float64Array(size);
  let sum = 0;
  for (let r = 0; r < size; r++) cumulative[r] = sum += 1 / (r + 1);
  return () => {
    const x = random() * sum;
    let lo = 0;
    let hi = size - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}
const pickEnglish = zipfSampler(english.length);
const pickKorean = zipfSampler(korean.length);

function chunkText(i: number): string {
  const words: string[] = [];
  if (i % 2 === 0) {
    for (let w = 0; w < 45; w++) words.push(english[pickEnglish()]);
  } else {
    for (let w = 0; w < 35; w++) {
      words.push(korean[pickKorean()] + PARTICLES[Math.floor(random() * PARTICLES.length)]);
    }
  }
  return words.join(' ');
}

/** Queries of two or three words below the 20 most frequent, half Korean with particles. */
function queryText(i: number): string {
  const n = 2 + (i % 2);
  const words: string[] = [];
  for (let w = 0; w < n; w++) {
    if (i % 2 === 0) words.push(english[20 + (pickEnglish() % (english.length - 20))]);
    else words.push(`${korean[20 + (pickKorean() % (korean.length - 20))]}${PARTICLES[w + 2]}`);
  }
  return words.join(' ');
}

function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) =>
    Number(
      sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)].toFixed(3),
    );
  return {
    n: sorted.length,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    max: Number(sorted[sorted.length - 1].toFixed(3)),
    mean: Number((sorted.reduce((a, b) => a + b, 0) / sorted.length).toFixed(3)),
  };
}

function post(
  agent: http.Agent,
  port: number,
  key: string,
  body: object,
): Promise<{ status: number; ms: number; json: { results: unknown[]; took_ms: number } }> {
  const payload = JSON.stringify(body);
  const started = performance.now();
  return new Promise((resolvePost, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/v1/search',
        method: 'POST',
        agent,
        headers: {
          authorization: key,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
        },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => {
          const ms = performance.now() - started;
          const text = Buffer.concat(parts).toString('utf8');
          if (res.statusCode !== 200) {
            reject(new Error(`search answered ${res.statusCode}: ${text}`));
            return;
          }
          resolvePost({ status: res.statusCode, ms, json: JSON.parse(text) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function main(): Promise<void> {
  const started = Date.now();
  const suffix = randomBytes(4).toString('hex');
  const collection = `bench_search_${suffix}`;
  let emulator: SpawnedQdrant | undefined;
  const qdrantUrl =
    process.env.QDRANT_URL ??
    (emulator = await spawnQdrantEmulator({ readyTimeoutMs: 60_000 })).url;
  const db = await createTestDatabase('bench_search');
  let app: NestExpressApplication | undefined;
  try {
    const config = loadConfig({
      app: 'api',
      env: {},
      overrides: {
        NODE_ENV: 'production',
        DATABASE_URL: db.url,
        REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
        QUEUE_PREFIX: `quarry-bench-search-${suffix}`,
        QDRANT_URL: qdrantUrl,
        QDRANT_COLLECTION: collection,
        LOG_LEVEL: 'warn',
        LOG_PRETTY: false,
      },
    });
    app = await createApiApp(config, { extraModules: [SearchApiModule] });
    await app.listen(0, '127.0.0.1');
    const port = (app.getHttpServer().address() as AddressInfo).port;
    const ds = app.get(DbService).dataSource;
    const vectors = app.get(QdrantGateway);
    const embedder = app.get<Embedder>(EMBEDDER);
    await vectors.bootstrap();
    const key = `Bearer ${(await app.get(ApiKeysService).create({ ownerId: OWNER })).key}`;

    // ---------------------------------------------------------------- load
    const loadStarted = performance.now();
    const [{ id: collectionId }] = (await ds.query(
      `INSERT INTO collections (owner_id, name) VALUES ($1, 'bench') RETURNING id::text AS id`,
      [OWNER],
    )) as { id: string }[];
    const documents = Math.ceil(CHUNKS / CHUNKS_PER_DOCUMENT);
    let embedMs = 0;
    let upsertMs = 0;
    let insertMs = 0;
    for (let d = 0; d < documents; d++) {
      // one document in fifty is being deleted: its points stay in Qdrant meanwhile
      const status = d % 50 === 49 ? 'deleting' : 'completed';
      const sha = createHash('sha256').update(`${suffix}-${d}`).digest('hex');
      const t0 = performance.now();
      const [{ id }] = (await ds.query(
        `INSERT INTO documents (collection_id, owner_id, filename, mime_type, size_bytes, sha256,
           status, generation, progress, processing_started_at, processing_completed_at, metadata)
         VALUES ($1, $2, $3, 'text/plain', 1000, $4, $5, $6, 100, now(), now(), $7::jsonb)
         RETURNING id::text AS id`,
        [
          collectionId,
          OWNER,
          `doc-${d}.txt`,
          sha,
          status,
          status === 'deleting' ? 1 : 0,
          JSON.stringify({ shard: d % 10 }),
        ],
      )) as { id: string }[];
      const count = Math.min(CHUNKS_PER_DOCUMENT, CHUNKS - d * CHUNKS_PER_DOCUMENT);
      const texts = Array.from({ length: count }, (_, o) => chunkText(d * CHUNKS_PER_DOCUMENT + o));
      const ids = texts.map((_, o) => pointIdFor(id, 0, o));
      await ds.query(
        `INSERT INTO chunks (id, document_id, generation, ordinal, text, token_count)
         SELECT c.id, $2::uuid, 0, c.ordinal, c.text, 0
           FROM unnest($1::uuid[], $3::int[], $4::text[]) AS c(id, ordinal, text)`,
        [ids, id, texts.map((_, o) => o), texts],
      );
      const t1 = performance.now();
      insertMs += t1 - t0;
      const embedded = await embedder.embed(texts);
      const t2 = performance.now();
      embedMs += t2 - t1;
      await vectors.upsertChunks(
        embedded.map((vector, o) => ({
          id: ids[o],
          vector,
          payload: {
            document_id: id,
            collection_id: collectionId,
            owner_id: OWNER,
            generation: 0,
            ordinal: o,
          },
        })),
        { batchSize: CHUNKS_PER_DOCUMENT },
      );
      upsertMs += performance.now() - t2;
      if ((d + 1) % 100 === 0) {
        process.stdout.write(`loaded ${(d + 1) * CHUNKS_PER_DOCUMENT} chunks\n`);
      }
    }
    await ds.query('ANALYZE chunks; ANALYZE documents');
    const loadSeconds = (performance.now() - loadStarted) / 1000;

    // ---------------------------------------------------------------- measure
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const queries = Array.from({ length: QUERIES + WARMUP }, (_, i) => queryText(i));
    const queryVectors = (await embedder.embed(queries)).map((v) => Array.from(v));
    const bare: number[] = [];
    // what the service's first round asks Qdrant for: three times the page plus one
    const bareOverfetch: number[] = [];
    const api: Record<(typeof MODES)[number], number[]> = { semantic: [], keyword: [], hybrid: [] };
    const server: Record<(typeof MODES)[number], number[]> = {
      semantic: [],
      keyword: [],
      hybrid: [],
    };
    const empty: Record<(typeof MODES)[number], number> = { semantic: 0, keyword: 0, hybrid: 0 };
    const timed: Record<(typeof MODES)[number], { query: string; ms: number }[]> = {
      semantic: [],
      keyword: [],
      hybrid: [],
    };
    for (let i = 0; i < queries.length; i++) {
      const measured = i >= WARMUP;
      const t0 = performance.now();
      await vectors.query({ vector: queryVectors[i], ownerId: OWNER, limit: LIMIT });
      if (measured) bare.push(performance.now() - t0);
      const t1 = performance.now();
      await vectors.query({ vector: queryVectors[i], ownerId: OWNER, limit: 3 * (LIMIT + 1) });
      if (measured) bareOverfetch.push(performance.now() - t1);
      for (const mode of MODES) {
        const res = await post(agent, port, key, { query: queries[i], mode, limit: LIMIT });
        if (!measured) continue;
        api[mode].push(res.ms);
        timed[mode].push({ query: queries[i], ms: Number(res.ms.toFixed(2)) });
        server[mode].push(res.json.took_ms);
        if (res.json.results.length === 0) empty[mode]++;
      }
    }
    agent.destroy();

    const bareStats = stats(bare);
    const modes = Object.fromEntries(
      MODES.map((mode) => [
        mode,
        {
          http: stats(api[mode]),
          service: stats(server[mode]),
          queriesWithoutResults: empty[mode],
          slowest: timed[mode].sort((a, b) => b.ms - a.ms).slice(0, 5),
        },
      ]),
    );
    const semanticOverheadP50 = Number((stats(api.semantic).p50 - bareStats.p50).toFixed(3));
    const result = {
      benchmark: 'search',
      date: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      loadAverage1m: Math.round(loadavg()[0] * 100) / 100,
      qdrant: emulator ? 'emulator' : qdrantUrl,
      chunks: CHUNKS,
      documents,
      hiddenDocuments: Math.floor(documents / 50),
      queries: QUERIES,
      limit: LIMIT,
      load: {
        seconds: Number(loadSeconds.toFixed(1)),
        insertSeconds: Number((insertMs / 1000).toFixed(1)),
        embedSeconds: Number((embedMs / 1000).toFixed(1)),
        upsertSeconds: Number((upsertMs / 1000).toFixed(1)),
      },
      bareVectorQueryMs: bareStats,
      bareVectorQueryOverfetchMs: stats(bareOverfetch),
      modesMs: modes,
      goals: {
        semanticApiOverheadP50Ms: {
          value: semanticOverheadP50,
          goal: 5,
          met: semanticOverheadP50 <= 5,
        },
        keywordApiP99Ms: {
          value: stats(api.keyword).p99,
          goal: 50,
          met: stats(api.keyword).p99 <= 50,
        },
      },
      pass: semanticOverheadP50 <= 5 && stats(api.keyword).p99 <= 50,
      totalSeconds: Math.round((Date.now() - started) / 1000),
    };
    mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
    const line = (name: string, s: { p50: number; p99: number }) =>
      `  ${name.padEnd(22)} p50 ${s.p50.toFixed(2).padStart(8)} ms   p99 ${s.p99.toFixed(2).padStart(8)} ms`;
    console.log(
      [
        `search over ${CHUNKS} chunks (${documents} documents), ${QUERIES} queries, limit ${LIMIT}, load avg ${result.loadAverage1m}`,
        line('bare vector query', bareStats),
        line(`bare, limit ${3 * (LIMIT + 1)}`, stats(bareOverfetch)),
        ...MODES.map((mode) => line(`${mode} (HTTP)`, modes[mode].http)),
        ...MODES.map((mode) => line(`${mode} (in service)`, modes[mode].service)),
        `  semantic API overhead p50: ${semanticOverheadP50} ms (goal ≤ 5)`,
        `  keyword p99: ${result.goals.keywordApiP99Ms.value} ms (goal ≤ 50)`,
        `→ ${RESULTS}`,
      ].join('\n'),
    );
  } finally {
    await app?.close().catch(() => undefined);
    await fetch(`${qdrantUrl}/collections/${collection}`, { method: 'DELETE' }).catch(
      () => undefined,
    );
    if (process.env.BENCH_KEEP_DB === 'true') console.log(`kept database ${db.name}`);
    else await db.drop().catch(() => undefined);
    await emulator?.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
