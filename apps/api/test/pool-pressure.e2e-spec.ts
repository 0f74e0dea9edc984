import { createTestDatabase, PgBouncer, TestDatabase } from '@quarry/testing';
import * as path from 'node:path';
import {
  apiTestConfig,
  dropQueuePrefix,
  RunningApi,
  startApi,
  uniqueQueuePrefix,
} from './support/api-harness';
import { DbProbeModule } from './support/db-probe.module';
import { httpRequest } from './support/http-client';
import { Exit, NodeProcess } from './support/node-process';
import { PgAdmin } from './support/pg-admin';

const POOL_MAX = 5;
const ACQUIRE_TIMEOUT_MS = 500;
const CONCURRENT = 200;
const HOLD_MS = 50;
const FIXTURE = path.join(__dirname, 'fixtures/http-burst.js');

interface BurstResult {
  status: number;
  ms: number;
  headers: Record<string, string>;
  text: string;
  error?: string;
}

/**
 * Five connections, a 500 ms acquire timeout and 200 requests at once that each hold a
 * connection for 50 ms: the pool can serve about 50 of them within the timeout, so the
 * rest must be turned away quickly with a 503 the client can act on, never queued forever.
 * The same straight to PostgreSQL and through the machine's PgBouncer in transaction mode
 * (DB_PREPARED_STATEMENTS=false).
 */
describe.each([
  ['straight to PostgreSQL', false],
  ['through PgBouncer', true],
])('api: the pool under pressure, %s', (_route, viaPgBouncer) => {
  const prefix = uniqueQueuePrefix('pool');
  let db: TestDatabase;
  let admin: PgAdmin;
  let api: RunningApi;
  let bouncer: PgBouncer | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('api_pool');
    admin = await PgAdmin.connect();
    bouncer = viaPgBouncer ? await PgBouncer.start({ poolSize: 10 }) : undefined;
    api = await startApi(
      apiTestConfig(db, prefix, {
        DB_POOL_MAX: POOL_MAX,
        DB_POOL_ACQUIRE_TIMEOUT_MS: ACQUIRE_TIMEOUT_MS,
        ...(bouncer && { DATABASE_URL: bouncer.urlFor(db.url), DB_PREPARED_STATEMENTS: false }),
      }),
      [DbProbeModule],
    );
  });

  afterAll(async () => {
    await api?.close();
    await bouncer?.stop();
    await admin?.close();
    await db?.drop();
    await dropQueuePrefix(prefix);
  });

  it(`answers ${CONCURRENT} concurrent requests with 2xx or a quick 503 + Retry-After, on at most ${POOL_MAX} connections`, async () => {
    let peak = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await admin.connections(db.name));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    // The client runs in a process of its own: sharing the server's event loop, its work on
    // 200 answers would be counted as the server's latency.
    const burst = new NodeProcess(
      FIXTURE,
      [api.baseUrl, `/probe/db/hold?ms=${HOLD_MS}`, String(CONCURRENT), String(POOL_MAX)],
      { PATH: process.env.PATH ?? '' },
    );
    let exit: Exit | null;
    try {
      exit = await burst.waitForExit(60_000);
    } finally {
      sampling = false;
      await sampler;
      await burst.stop();
    }
    expect(exit).toEqual(expect.objectContaining({ code: 0 }));
    const { warm, results } = JSON.parse(burst.stdout) as {
      warm: number[];
      results: BurstResult[];
    };
    // steady state before the burst: every pooled connection made and working
    expect(warm).toEqual(Array(POOL_MAX).fill(200));
    expect(results).toHaveLength(CONCURRENT);

    const ok = results.filter((r) => r.status >= 200 && r.status < 300);
    const rejected = results.filter((r) => r.status === 503);
    const other = results.filter((r) => !ok.includes(r) && !rejected.includes(r));
    expect(other.map((r) => `${r.status} ${r.error ?? r.text}`)).toEqual([]);

    // Without both outcomes the test would prove nothing about exhaustion.
    expect(ok.length).toBeGreaterThan(0);
    expect(rejected.length).toBeGreaterThan(0);

    for (const res of rejected) {
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(JSON.parse(res.text)).toMatchObject({
        status: 503,
        title: 'Service Unavailable',
        detail: expect.stringMatching(/busy.*retry/i),
      });
    }

    const slowest = Math.max(...results.map((r) => r.ms));
    expect(slowest).toBeLessThanOrEqual(ACQUIRE_TIMEOUT_MS + 1_000);

    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(POOL_MAX);
    expect(await admin.connections(db.name)).toBeLessThanOrEqual(POOL_MAX);

    // The exhaustion is visible to operators, and the api is serving again right after.
    const metrics = await httpRequest(api.metricsUrl, '/metrics');
    const exhausted = /^quarry_db_pool_exhausted_total(?:\{[^}]*\})? (\d+)/m.exec(metrics.text);
    expect(Number(exhausted?.[1])).toBe(rejected.length);
    const after = await httpRequest(api.baseUrl, `/probe/db/hold?ms=${HOLD_MS}`);
    expect(after.status).toBe(200);
  });
});
