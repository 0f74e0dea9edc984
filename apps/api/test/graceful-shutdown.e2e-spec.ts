import { createTestDatabase, TestDatabase } from '@quarry/testing';
import * as path from 'node:path';
import { apiTestEnv, dropQueuePrefix, uniqueQueuePrefix } from './support/api-harness';
import { HttpResult, httpRequest, isProblem } from './support/http-client';
import { compiled, NodeProcess } from './support/node-process';
import { PgAdmin } from './support/pg-admin';

const FIXTURE = path.join(__dirname, 'fixtures/slow-api.js');
const SHUTDOWN_GRACE_MS = 15_000;
const SLOW_MS = 2_500;

interface LogLine {
  msg?: string;
  context?: string;
}

function logLines(stdout: string): LogLine[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
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

    // The drain waited for the request, and the pool closed after everything else.
    const messages = logLines(api.stdout).map((l) => l.msg ?? '');
    const drained = messages.findIndex((m) => /^draining 1 request/.test(m));
    const closed = messages.filter((m) => /^closed .+ in \d+ ms$/.test(m));
    expect(drained).toBeGreaterThanOrEqual(0);
    expect(closed.length).toBeGreaterThanOrEqual(2);
    expect(closed[closed.length - 1]).toMatch(/^closed database pool in/);
    expect(messages.indexOf(closed[0])).toBeGreaterThan(drained);

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
    expect(logLines(api.stdout).some((l) => /^draining/.test(l.msg ?? ''))).toBe(false);

    expect(await admin.waitFor(apiSessions, (n) => n === 0, 5_000)).toBe(0);
  });
});
