import { createTestDatabase, TestDatabase } from '@quarry/testing';
import * as http from 'node:http';
import {
  apiTestConfig,
  dropQueuePrefix,
  RunningApi,
  startApi,
  uniqueQueuePrefix,
} from './support/api-harness';
import { DbProbeModule } from './support/db-probe.module';
import { HttpResult, httpRequest, isProblem } from './support/http-client';
import { PgAdmin } from './support/pg-admin';

const POOL_MAX = 5;
const ACQUIRE_TIMEOUT_MS = 500;
const CONCURRENT = 200;
const HOLD_MS = 50;

/**
 * Five connections, a 500 ms acquire timeout and 200 requests at once that each hold a
 * connection for 50 ms: the pool can serve about 50 of them within the timeout, so the
 * rest must be turned away quickly with a 503 the client can act on, never queued forever.
 */
describe('api: the pool under pressure', () => {
  const prefix = uniqueQueuePrefix('pool');
  let db: TestDatabase;
  let admin: PgAdmin;
  let api: RunningApi;
  let agent: http.Agent;

  beforeAll(async () => {
    db = await createTestDatabase('api_pool');
    admin = await PgAdmin.connect();
    api = await startApi(
      apiTestConfig(db, prefix, {
        DB_POOL_MAX: POOL_MAX,
        DB_POOL_ACQUIRE_TIMEOUT_MS: ACQUIRE_TIMEOUT_MS,
      }),
      [DbProbeModule],
    );
    agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENT + 20 });
  });

  afterAll(async () => {
    agent?.destroy();
    await api?.close();
    await admin?.close();
    await db?.drop();
    await dropQueuePrefix(prefix);
  });

  it(`answers ${CONCURRENT} concurrent requests with 2xx or a quick 503 + Retry-After, on at most ${POOL_MAX} connections`, async () => {
    // Steady state first: the client's sockets open and the pool's connections made, so the
    // burst measures waiting for a connection, not TCP handshakes and backend start-up.
    await Promise.all(
      Array.from({ length: CONCURRENT }, () => httpRequest(api.baseUrl, '/health/live', { agent })),
    );
    const warm = await Promise.all(
      Array.from({ length: POOL_MAX }, () =>
        httpRequest(api.baseUrl, `/probe/db/hold?ms=${HOLD_MS}`, { agent }),
      ),
    );
    expect(warm.map((r) => r.status)).toEqual(Array(POOL_MAX).fill(200));

    let peak = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await admin.connections(db.name));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    let results: HttpResult[];
    try {
      results = await Promise.all(
        Array.from({ length: CONCURRENT }, () =>
          httpRequest(api.baseUrl, `/probe/db/hold?ms=${HOLD_MS}`, { agent, timeoutMs: 20_000 }),
        ),
      );
    } finally {
      sampling = false;
      await sampler;
    }

    const ok = results.filter((r) => r.status >= 200 && r.status < 300);
    const rejected = results.filter((r) => r.status === 503);
    const other = results.filter((r) => !ok.includes(r) && !rejected.includes(r));
    expect(other.map((r) => `${r.status} ${r.text}`)).toEqual([]);

    // Without both outcomes the test would prove nothing about exhaustion.
    expect(ok.length).toBeGreaterThan(0);
    expect(rejected.length).toBeGreaterThan(0);

    for (const res of rejected) {
      expect(isProblem(res, 503)).toBe(true);
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(res.json().detail).toMatch(/busy|retry/i);
    }

    const slowest = Math.max(...results.map((r) => r.ms));
    expect(slowest).toBeLessThanOrEqual(ACQUIRE_TIMEOUT_MS + 1_000);

    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(POOL_MAX);
    expect(await admin.connections(db.name)).toBeLessThanOrEqual(POOL_MAX);

    // The exhaustion is visible to operators, and the api is serving again right after.
    const metrics = await httpRequest(api.baseUrl, '/metrics');
    const exhausted = /^quarry_db_pool_exhausted_total(?:\{[^}]*\})? (\d+)/m.exec(metrics.text);
    expect(Number(exhausted?.[1])).toBe(rejected.length);
    const after = await httpRequest(api.baseUrl, `/probe/db/hold?ms=${HOLD_MS}`, { agent });
    expect(after.status).toBe(200);
  });
});
