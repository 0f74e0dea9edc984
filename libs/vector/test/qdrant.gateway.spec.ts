import { MetricNames, MetricsService } from '@quarry/observability';
import {
  QdrantGateway,
  VectorCollectionMismatchError,
  VectorModuleOptions,
  VectorStoreRequestError,
  VectorStoreUnavailableError,
} from '@quarry/vector';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectionInfo, fail, FakeQdrant, ok } from './fake-qdrant';

const COLLECTION = 'unit_chunks';
const COUNT = `POST /collections/${COLLECTION}/points/count`;

function options(url: string, extra: Partial<VectorModuleOptions> = {}): VectorModuleOptions {
  return {
    url,
    collection: COLLECTION,
    dimension: 4,
    timeoutMs: 2_000,
    retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
    ...extra,
  };
}

async function metricValue(metrics: MetricsService, name: string, labels: Record<string, string>) {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  return (
    metric?.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))
      ?.value ?? 0
  );
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('QdrantGateway retries and error mapping', () => {
  let fake: FakeQdrant;
  let url: string;

  beforeEach(async () => {
    fake = new FakeQdrant();
    url = await fake.start();
  });

  afterEach(async () => {
    await fake.stop();
  });

  it('retries a 503 and returns the answer that follows', async () => {
    fake.on(COUNT, (_req, nth) =>
      nth === 1 ? fail(503, 'Service Unavailable: overloaded') : ok({ count: 5 }),
    );
    const metrics = new MetricsService();
    const gateway = new QdrantGateway(options(url), metrics);

    await expect(gateway.count()).resolves.toBe(5);
    expect(fake.count(COUNT)).toBe(2);
    expect(await metricValue(metrics, MetricNames.qdrantErrorsTotal, { operation: 'count' })).toBe(
      1,
    );
    const durations = await metrics.registry
      .getSingleMetric(MetricNames.qdrantRequestDuration)
      ?.get();
    const okCount = durations?.values.find(
      (v) =>
        (v as { metricName?: string }).metricName ===
          `${MetricNames.qdrantRequestDuration}_count` &&
        v.labels.operation === 'count' &&
        v.labels.outcome === 'ok',
    );
    expect(okCount?.value).toBe(1);
  });

  it('gives up after the configured attempts with VectorStoreUnavailableError', async () => {
    fake.on(COUNT, () => fail(502, 'Bad Gateway'));
    const gateway = new QdrantGateway(options(url));

    const error = await gateway.count().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VectorStoreUnavailableError);
    expect((error as VectorStoreUnavailableError).attempts).toBe(3);
    expect((error as VectorStoreUnavailableError).message).toMatch(/HTTP 502/);
    expect(fake.count(COUNT)).toBe(3);
  });

  it('does not retry a 400 and carries Qdrant’s message', async () => {
    const message = 'Wrong input: Vector dimension error: expected dim: 4, got 3';
    fake.on(`PUT /collections/${COLLECTION}/points`, () => fail(400, message));
    const gateway = new QdrantGateway(options(url));

    const error = await gateway
      .upsertChunks([
        {
          id: '9342d47a-1bab-5709-9869-c840b2eac501',
          vector: [1, 0, 0],
          payload: {
            document_id: 'd',
            collection_id: 'c',
            owner_id: 'o',
            generation: 1,
            ordinal: 0,
          },
        },
      ])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VectorStoreRequestError);
    expect((error as VectorStoreRequestError).statusCode).toBe(400);
    expect((error as VectorStoreRequestError).qdrantMessage).toBe(message);
    expect(fake.count(`PUT /collections/${COLLECTION}/points`)).toBe(1);
  });

  it('does not retry a 404', async () => {
    fake.on(COUNT, () => fail(404, `Not found: Collection \`${COLLECTION}\` doesn't exist!`));
    const gateway = new QdrantGateway(options(url));

    await expect(gateway.count()).rejects.toMatchObject({
      name: 'VectorStoreRequestError',
      statusCode: 404,
    });
    expect(fake.count(COUNT)).toBe(1);
  });

  it('retries a request that times out, then reports it unavailable', async () => {
    fake.on(COUNT, () => 'hang');
    const gateway = new QdrantGateway(options(url, { timeoutMs: 100 }));

    const error = await gateway.count().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VectorStoreUnavailableError);
    expect((error as Error).message).toMatch(/timed out/);
    expect(fake.count(COUNT)).toBe(3);
  });

  it('turns a refused connection into VectorStoreUnavailableError after retries', async () => {
    const port = await freePort();
    const metrics = new MetricsService();
    const gateway = new QdrantGateway(options(`http://127.0.0.1:${port}`), metrics);

    const error = await gateway.count().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VectorStoreUnavailableError);
    expect((error as VectorStoreUnavailableError).attempts).toBe(3);
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
    expect(await metricValue(metrics, MetricNames.qdrantErrorsTotal, { operation: 'count' })).toBe(
      3,
    );
  });

  it('refuses calls once closed, after letting the one in flight finish', async () => {
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    fake.on(COUNT, async () => {
      await released;
      return ok({ count: 7 });
    });
    const gateway = new QdrantGateway(options(url));

    const inFlight = gateway.count();
    await new Promise((resolve) => setTimeout(resolve, 50));
    let closed = false;
    const closing = gateway.close().then(() => (closed = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(closed).toBe(false);
    release();
    await expect(inFlight).resolves.toBe(7);
    await closing;
    expect(closed).toBe(true);

    await expect(gateway.count()).rejects.toBeInstanceOf(VectorStoreUnavailableError);
    expect(fake.count(COUNT)).toBe(1);
  });
});

describe('QdrantGateway snapshot files', () => {
  let fake: FakeQdrant;
  let url: string;
  let dir: string;
  const DOWNLOAD = `GET /collections/${COLLECTION}/snapshots/s1.snapshot`;

  beforeEach(async () => {
    fake = new FakeQdrant();
    url = await fake.start();
    dir = mkdtempSync(join(tmpdir(), 'quarry-vector-unit-'));
  });

  afterEach(async () => {
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('retries a 503 download and writes the file with its checksum', async () => {
    fake.on(DOWNLOAD, (_req, nth) =>
      nth === 1 ? fail(503, 'busy') : { status: 200, raw: 'snapshot-bytes' },
    );
    const gateway = new QdrantGateway(options(url));

    const target = join(dir, 'copy.snapshot');
    const result = await gateway.downloadSnapshot('s1.snapshot', target);
    expect(readFileSync(target, 'utf8')).toBe('snapshot-bytes');
    expect(result).toEqual({
      path: target,
      bytes: 14,
      sha256: createHash('sha256').update('snapshot-bytes').digest('hex'),
    });
    expect(fake.count(DOWNLOAD)).toBe(2);
  });

  it('does not retry a missing snapshot and leaves no partial file', async () => {
    fake.on(DOWNLOAD, () => fail(404, 'Not found: Snapshot s1.snapshot not found'));
    const gateway = new QdrantGateway(options(url));

    const target = join(dir, 'copy.snapshot');
    await expect(gateway.downloadSnapshot('s1.snapshot', target)).rejects.toMatchObject({
      name: 'VectorStoreRequestError',
      statusCode: 404,
      qdrantMessage: 'Not found: Snapshot s1.snapshot not found',
    });
    expect(fake.count(DOWNLOAD)).toBe(1);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('QdrantGateway request shapes', () => {
  let fake: FakeQdrant;
  let url: string;
  const QUERY = `POST /collections/${COLLECTION}/points/query`;

  beforeEach(async () => {
    fake = new FakeQdrant();
    url = await fake.start();
  });

  afterEach(async () => {
    await fake.stop();
  });

  it('sends the API key on client calls, probes and snapshot transfers', async () => {
    fake
      .on(COUNT, () => ok({ count: 1 }))
      .on('GET /readyz', () => ({ status: 200, raw: 'ok' }))
      .on(`GET /collections/${COLLECTION}/snapshots/s.snapshot`, () => ({ status: 200, raw: 'x' }));
    const dir = mkdtempSync(join(tmpdir(), 'quarry-vector-key-'));
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const gateway = new QdrantGateway(options(url, { apiKey: 'secret-key' }));
      await gateway.count();
      await gateway.ping();
      await gateway.downloadSnapshot('s.snapshot', join(dir, 's.snapshot'));
      expect(fake.requests.map((r) => [r.path, r.apiKey])).toEqual([
        [`/collections/${COLLECTION}/points/count`, 'secret-key'],
        ['/readyz', 'secret-key'],
        [`/collections/${COLLECTION}/snapshots/s.snapshot`, 'secret-key'],
      ]);
    } finally {
      warn.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('retrieves long id lists in batches', async () => {
    const RETRIEVE = `POST /collections/${COLLECTION}/points`;
    fake.on(RETRIEVE, (req) =>
      ok(
        ((req.body as { ids: string[] }).ids ?? []).map((id) => ({
          id,
          payload: {
            document_id: 'd',
            owner_id: 'o',
            collection_id: 'c',
            generation: 1,
            ordinal: 0,
          },
        })),
      ),
    );
    const gateway = new QdrantGateway(options(url));
    const ids = Array.from({ length: 5 }, (_, i) => `00000000-0000-4000-8000-00000000000${i}`);

    const found = await gateway.retrieve(ids, { batchSize: 2 });
    expect(found.map((p) => p.id)).toEqual(ids);
    expect(fake.count(RETRIEVE)).toBe(3);
    await expect(gateway.retrieve([])).resolves.toEqual([]);
    expect(fake.count(RETRIEVE)).toBe(3);
  });

  it('always sends the owner filter with a query', async () => {
    fake.on(QUERY, () =>
      ok({
        points: [
          {
            id: 'A2D1C6A4-0000-4000-8000-000000000000',
            version: 1,
            score: 0.5,
            payload: {
              document_id: 'd',
              collection_id: 'c',
              owner_id: 'o1',
              generation: 2,
              ordinal: 3,
            },
          },
        ],
      }),
    );
    const gateway = new QdrantGateway(options(url));

    const hits = await gateway.query({
      vector: new Float32Array([1, 0, 0, 0]),
      ownerId: 'o1',
      collectionIds: ['c'],
      limit: 5,
      scoreThreshold: 0.2,
    });
    expect(hits).toEqual([
      {
        id: 'A2D1C6A4-0000-4000-8000-000000000000',
        score: 0.5,
        payload: {
          document_id: 'd',
          collection_id: 'c',
          owner_id: 'o1',
          generation: 2,
          ordinal: 3,
        },
      },
    ]);
    expect(fake.requests[0].body).toMatchObject({
      query: [1, 0, 0, 0],
      limit: 5,
      score_threshold: 0.2,
      with_payload: true,
      filter: {
        must: [
          { key: 'owner_id', match: { value: 'o1' } },
          { key: 'collection_id', match: { any: ['c'] } },
        ],
      },
    });
  });

  it('refuses a query without an owner and sends nothing', async () => {
    const gateway = new QdrantGateway(options(url));
    await expect(gateway.query({ vector: [1, 0, 0, 0], ownerId: '', limit: 5 })).rejects.toThrow(
      /ownerId is required/,
    );
    expect(fake.requests).toHaveLength(0);
  });

  it('answers an empty collection list with no hits and sends nothing', async () => {
    const gateway = new QdrantGateway(options(url));
    await expect(
      gateway.query({ vector: [1, 0, 0, 0], ownerId: 'o', collectionIds: [], limit: 5 }),
    ).resolves.toEqual([]);
    expect(fake.requests).toHaveLength(0);
  });

  it('deletes one document’s older generations with a must_not filter', async () => {
    fake.on(`POST /collections/${COLLECTION}/points/delete`, () =>
      ok({ operation_id: 1, status: 'completed' }),
    );
    const gateway = new QdrantGateway(options(url));

    await gateway.deleteByDocument('doc-1', { exceptGeneration: 4 });
    expect(fake.requests[0].body).toEqual({
      filter: {
        must: [{ key: 'document_id', match: { value: 'doc-1' } }],
        must_not: [{ key: 'generation', match: { value: 4 } }],
      },
    });
  });
});

describe('QdrantGateway.bootstrap', () => {
  let fake: FakeQdrant;
  let url: string;
  const EXISTS = `GET /collections/${COLLECTION}/exists`;
  const GET = `GET /collections/${COLLECTION}`;
  const CREATE = `PUT /collections/${COLLECTION}`;
  const INDEX = `PUT /collections/${COLLECTION}/index`;

  beforeEach(async () => {
    fake = new FakeQdrant();
    url = await fake.start();
  });

  afterEach(async () => {
    await fake.stop();
  });

  it('treats a 409 on create as another process winning the race', async () => {
    fake
      .on(EXISTS, () => ok({ exists: false }))
      .on(CREATE, () => fail(409, `Wrong input: Collection \`${COLLECTION}\` already exists!`))
      .on(GET, () => ok(collectionInfo(4, 'Cosine')))
      .on(INDEX, () => ok({ operation_id: 1, status: 'completed' }));
    const gateway = new QdrantGateway(options(url));

    await expect(gateway.bootstrap()).resolves.toMatchObject({ exists: true, dimension: 4 });
    expect(fake.count(CREATE)).toBe(1);
    const indexed = fake.requests.filter((r) => r.path.endsWith('/index')).map((r) => r.body);
    expect(indexed).toEqual(
      expect.arrayContaining([
        { field_name: 'document_id', field_schema: 'keyword' },
        { field_name: 'owner_id', field_schema: { type: 'keyword', is_tenant: true } },
        { field_name: 'collection_id', field_schema: 'keyword' },
        { field_name: 'generation', field_schema: 'integer' },
      ]),
    );
  });

  it('creates only the payload indexes that are missing', async () => {
    fake
      .on(EXISTS, () => ok({ exists: true }))
      .on(GET, () =>
        ok(
          collectionInfo(4, 'Cosine', {
            document_id: { data_type: 'keyword', points: 0 },
            owner_id: {
              data_type: 'keyword',
              params: { type: 'keyword', is_tenant: true },
              points: 0,
            },
            collection_id: { data_type: 'keyword', points: 0 },
          }),
        ),
      )
      .on(INDEX, () => ok({ operation_id: 1, status: 'completed' }));
    const gateway = new QdrantGateway(options(url));

    await gateway.bootstrap();
    expect(fake.count(CREATE)).toBe(0);
    expect(fake.requests.filter((r) => r.path.endsWith('/index')).map((r) => r.body)).toEqual([
      { field_name: 'generation', field_schema: 'integer' },
    ]);
  });

  it('explains a dimension mismatch and how to fix it', async () => {
    fake.on(EXISTS, () => ok({ exists: true })).on(GET, () => ok(collectionInfo(768, 'Cosine')));
    const gateway = new QdrantGateway(options(url));

    const error = await gateway.bootstrap().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VectorCollectionMismatchError);
    const message = (error as Error).message;
    expect(message).toContain('dimension 768 with Cosine distance');
    expect(message).toContain('expects dimension 4 with Cosine distance');
    expect(message).toContain('set EMBEDDING_DIM=768');
    expect(message).toContain('QDRANT_COLLECTION');
    expect(fake.count(INDEX)).toBe(0);
  });

  it('refuses a distance mismatch without suggesting EMBEDDING_DIM', async () => {
    fake.on(EXISTS, () => ok({ exists: true })).on(GET, () => ok(collectionInfo(4, 'Dot')));
    const gateway = new QdrantGateway(options(url));

    const error = await gateway.bootstrap().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VectorCollectionMismatchError);
    expect((error as Error).message).toContain('dimension 4 with Dot distance');
    expect((error as Error).message).not.toContain('set EMBEDDING_DIM');
    expect((error as Error).message).toContain('Set QDRANT_COLLECTION to a new collection');
  });

  describe("bootstrap: 'when-available'", () => {
    async function until(
      condition: () => boolean,
      timeoutMs = 5_000,
      step: () => Promise<void> = () => new Promise((resolve) => setTimeout(resolve, 20)),
    ): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        await step();
        if (condition()) return;
        if (Date.now() > deadline) throw new Error('condition not met in time');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }

    function lenient(): QdrantGateway {
      return new QdrantGateway(
        options(url, { bootstrap: 'when-available', bootstrapRetryMs: 50, retry: { attempts: 1 } }),
      );
    }

    it('starts while Qdrant is down and bootstraps once it answers', async () => {
      fake.on(EXISTS, () => fail(503, 'starting'));
      const gateway = lenient();

      await expect(gateway.onModuleInit()).resolves.toBeUndefined();
      expect(gateway.isBootstrapped).toBe(false);

      fake
        .on(EXISTS, () => ok({ exists: true }))
        .on(GET, () => ok(collectionInfo(4, 'Cosine')))
        .on(INDEX, () => ok({ operation_id: 1, status: 'completed' }));
      fake.on('GET /readyz', () => ({ status: 200, raw: 'ok' }));
      await until(() => gateway.isBootstrapped);
      await expect(gateway.ping()).resolves.toBeUndefined();
      await gateway.close();
    });

    it('still stops start-up on a mismatch it can see', async () => {
      fake.on(EXISTS, () => ok({ exists: true })).on(GET, () => ok(collectionInfo(8, 'Cosine')));
      await expect(lenient().onModuleInit()).rejects.toBeInstanceOf(VectorCollectionMismatchError);
    });

    it('fails readiness with the mismatch a background check finds', async () => {
      fake.on(EXISTS, () => fail(503, 'starting'));
      fake.on('GET /readyz', () => ({ status: 200, raw: 'ok' }));
      const gateway = lenient();
      await gateway.onModuleInit();

      fake.on(EXISTS, () => ok({ exists: true })).on(GET, () => ok(collectionInfo(8, 'Cosine')));
      // the background check runs on its own timer: poll readiness until it reports
      let failure: unknown;
      await until(
        () => failure !== undefined,
        5_000,
        async () => {
          failure = await gateway.ping().then(
            () => undefined,
            (e: unknown) => e,
          );
        },
      );
      expect(failure).toBeInstanceOf(VectorCollectionMismatchError);
      expect((failure as Error).message).toMatch(/set EMBEDDING_DIM=8/);
      expect(gateway.isBootstrapped).toBe(false);
      await gateway.close();
    });

    it('stops checking in the background once closed', async () => {
      fake.on(EXISTS, () => fail(503, 'starting'));
      const gateway = lenient();
      await gateway.onModuleInit();
      await gateway.close();
      const seen = fake.count(EXISTS);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(fake.count(EXISTS)).toBe(seen);
    });
  });
});
