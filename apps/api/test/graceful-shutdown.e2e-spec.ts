import type { ShutdownReport } from '@quarry/observability';
import { createTestDatabase, TestDatabase } from '@quarry/testing';
import * as path from 'node:path';
import { apiTestEnv, dropQueuePrefix, uniqueQueuePrefix } from './support/api-harness';
import { HttpResult, httpRequest, isProblem } from './support/http-client';
import { compiled, NodeProcess } from './support/node-process';
import { PgAdmin } from './support/pg-admin';

const FIXTURE = path.join(__dirname, 'fixtures/slow-api.js');
const SHUTDOWN_GRACE_MS = 15_000;
const SLOW_MS = 2_500;

/** The ShutdownCoordinator's report, which the fixture prints as its last line. */
function shutdownReport(stdout: string): ShutdownReport {
  const line = /^slow-api shutdown report (.+)$/m.exec(stdout);
  if (!line) throw new Error(`no shutdown report in the api's output:\n${stdout.slice(-2_000)}`);
  return JSON.parse(line[1]) as ShutdownReport;
}

/**
 * The compiled api in its own process, stopped with SIGTERM the way Kubernetes stops a pod:
 * it turns unready at once, finishes the request in flight, closes its pools last and
 * exits 0 within SHUTDOWN_GRACE_MS, leaving no session behind in PostgreSQL.
 */
describe('api: graceful shutdown on SIGTERM', () => {
  const prefix = uniqueQueuePrefix('shutdown');
  const processes: NodeProcess[] = [];
  let db: TestDatabase;
  let admin: PgAdmin;

  async function startApi(): Promise<{ api: NodeProcess; baseUrl: string }> {
    compiled('apps/api/src/create-api-app.js');
    const api = new NodeProcess(
      FIXTURE,
      [],
      apiTestEnv(db, prefix, {
        SHUTDOWN_GRACE_MS: String(SHUTDOWN_GRACE_MS),
        LOG_LEVEL: 'info',
        DB_POOL_MAX: '3',
      }),
    );
    processes.push(api);
    const [, port] = await api.waitForOutput(/slow-api listening on (\d+)/, 60_000);
    return { api, baseUrl: `http://127.0.0.1:${port}` };
  }

  /** Sessions of the api's pool and of its health probe. */
  const apiSessions = async () =>
    (await admin.connections(db.name, 'quarry-api')) +
    (await admin.connections(db.name, 'quarry-api-health'));

  beforeAll(async () => {
    db = await createTestDatabase('api_shutdown');
    admin = await PgAdmin.connect();
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await admin?.close();
    await db?.drop();
    await dropQueuePrefix(prefix);
  });

  it('turns unready, finishes the request in flight, closes the pool last and exits 0', async () => {
    const { api, baseUrl } = await startApi();
    expect((await httpRequest(baseUrl, '/health/ready')).status).toBe(200);

    const slow = httpRequest(baseUrl, `/probe/slow?ms=${SLOW_MS}`, { timeoutMs: 30_000 });
    // The request is inside the database, holding a connection, before the signal.
    expect(
      await admin.waitFor(
        () => admin.sleepers(db.name),
        (n) => n === 1,
        10_000,
      ),
    ).toBe(1);
    const sigtermAt = Date.now();
    api.signal('SIGTERM');

    // Readiness answers 503 while the slow request is still running (a fresh connection
    // each time, as a load balancer's probe would open).
    let unready: HttpResult | undefined;
    const probeDeadline = sigtermAt + SLOW_MS / 2;
    while (!unready && Date.now() < probeDeadline) {
      const res = await httpRequest(baseUrl, '/health/ready', { timeoutMs: 5_000 });
      if (res.status === 503) unready = res;
      else await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(unready).toBeDefined();
    expect(isProblem(unready!, 503)).toBe(true);
    expect(await admin.sleepers(db.name)).toBe(1);

    const done = await slow;
    expect(done.status).toBe(200);
    expect(done.json()).toEqual({ ok: true, ms: SLOW_MS });
    expect(unready!.finishedAt).toBeLessThan(done.finishedAt);

    const exit = await api.waitForExit(SHUTDOWN_GRACE_MS + 10_000);
    expect(exit).toEqual(expect.objectContaining({ code: 0, signal: null }));
    expect(exit!.at - sigtermAt).toBeLessThan(SHUTDOWN_GRACE_MS);

    // Every close step ran, without error and in order, the database pool last.
    const report = shutdownReport(api.stdout);
    expect(report.timedOut).toBe(false);
    expect(report.steps.filter((step) => step.error)).toEqual([]);
    const names = report.steps.map((step) => step.name);
    expect(names[names.length - 1]).toBe('database pool');
    expect(names.slice(0, 2)).toEqual(['queues', expect.stringMatching(/^redis/)]);

    expect(await admin.waitFor(apiSessions, (n) => n === 0, 5_000)).toBe(0);
  });

  it('exits 0 promptly on SIGTERM with nothing in flight, without waiting out the grace', async () => {
    const { api, baseUrl } = await startApi();
    expect((await httpRequest(baseUrl, '/health/ready')).status).toBe(200);
    expect(await httpRequest(baseUrl, '/probe/slow?ms=1').then((r) => r.status)).toBe(200);

    const sigtermAt = Date.now();
    api.signal('SIGTERM');
    const exit = await api.waitForExit(SHUTDOWN_GRACE_MS + 10_000);
    expect(exit).toEqual(expect.objectContaining({ code: 0, signal: null }));
    // Well under the grace: nothing made it wait.
    expect(exit!.at - sigtermAt).toBeLessThan(SHUTDOWN_GRACE_MS / 2);
    const report = shutdownReport(api.stdout);
    expect(report.timedOut).toBe(false);
    expect(report.steps.map((step) => step.name)).toContain('database pool');

    expect(await admin.waitFor(apiSessions, (n) => n === 0, 5_000)).toBe(0);
  });
});
