import { createTestDatabase, TestDatabase } from '@quarry/testing';
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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A client that gives up after this is a hang: no request here should come near it. */
const HANG_MS = 15_000;

const read = (api: RunningApi, ms: number) =>
  httpRequest(api.baseUrl, `/probe/db/hold?ms=${ms}`, { timeoutMs: HANG_MS });
const transaction = (api: RunningApi, ms: number) =>
  httpRequest(api.baseUrl, `/probe/db/tx-hold?ms=${ms}`, { method: 'POST', timeoutMs: HANG_MS });

function expectInterrupted(res: HttpResult): void {
  expect(isProblem(res, 503)).toBe(true);
  expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  expect(res.json().detail).toMatch(/connection was interrupted/);
}

function connectionErrors(metricsText: string): number {
  let total = 0;
  for (const match of metricsText.matchAll(/^quarry_db_connection_errors_total\{[^}]*\} (\d+)/gm)) {
    total += Number(match[1]);
  }
  return total;
}

/**
 * An operator (or a failover) ends every api session with pg_terminate_backend while
 * requests are running: the requests caught in it answer with a clear 503 or succeed
 * through the read retry, none hangs or turns into a 500, and the api is whole again at once.
 */
describe('api: database connections killed mid-operation', () => {
  const prefix = uniqueQueuePrefix('kill');
  let db: TestDatabase;
  let admin: PgAdmin;
  let api: RunningApi;

  beforeAll(async () => {
    db = await createTestDatabase('api_kill');
    admin = await PgAdmin.connect();
    api = await startApi(
      apiTestConfig(db, prefix, { DB_POOL_MAX: 10, DB_POOL_ACQUIRE_TIMEOUT_MS: 2_000 }),
      [DbProbeModule],
    );
  });

  afterAll(async () => {
    await api?.close();
    await admin?.close();
    await db?.drop();
    await dropQueuePrefix(prefix);
  });

  it('retries reads caught in the kill and fails transactions with a 503 problem', async () => {
    const reads = [read(api, 1_500), read(api, 1_500), read(api, 1_500)];
    const transactions = [transaction(api, 1_500), transaction(api, 1_500)];
    const inFlight = await admin.waitFor(
      () => admin.sleepers(db.name),
      (n) => n === 5,
      10_000,
    );
    expect(inFlight).toBe(5);

    expect(await admin.terminate(db.name)).toBeGreaterThanOrEqual(5);

    // A read is safe to repeat: it runs again on a fresh connection and succeeds.
    for (const res of await Promise.all(reads)) expect(res.status).toBe(200);
    // A transaction is not: it surfaces as a 503 the client can retry, not a 500.
    for (const res of await Promise.all(transactions)) expectInterrupted(res);
  });

  it('answers only 200 or a 503 problem while sessions are killed under a stream of requests, then recovers at once', async () => {
    const before = connectionErrors((await httpRequest(api.metricsUrl, '/metrics')).text);
    const results: HttpResult[] = [];
    const failures: string[] = [];
    let running = true;
    const clients = Array.from({ length: 8 }, async (_, i) => {
      for (let n = 0; running; n++) {
        try {
          results.push(await ((i + n) % 2 === 0 ? read(api, 30) : transaction(api, 30)));
        } catch (err) {
          failures.push(String(err));
        }
      }
    });

    let terminated = 0;
    try {
      for (let kill = 0; kill < 3; kill++) {
        await sleep(600);
        // wait for requests to be inside the database, so the kill hits running statements
        await admin.waitFor(
          () => admin.sleepers(db.name),
          (n) => n > 0,
          5_000,
        );
        terminated += await admin.terminate(db.name);
      }
      await sleep(300);
    } finally {
      running = false;
      await Promise.all(clients);
    }

    expect(terminated).toBeGreaterThanOrEqual(3);
    expect(failures).toEqual([]);
    expect(results.length).toBeGreaterThan(20);
    for (const res of results) {
      if (res.status !== 200) expectInterrupted(res);
    }
    // The kills hit statements the api was running, and the api counted them.
    const after = connectionErrors((await httpRequest(api.metricsUrl, '/metrics')).text);
    expect(after).toBeGreaterThan(before);

    // Recovery: no broken connection is handed out again, no error repeats.
    const next: HttpResult[] = [];
    for (let round = 0; round < 10; round++) {
      next.push(
        ...(await Promise.all([
          read(api, 5),
          transaction(api, 5),
          read(api, 5),
          transaction(api, 5),
          read(api, 5),
        ])),
      );
    }
    expect(next.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect((await httpRequest(api.baseUrl, '/health/ready')).status).toBe(200);
    expect(await admin.connections(db.name)).toBeLessThanOrEqual(10);
  });
});
