import { createTestDatabase, TestDatabase } from '@quarry/testing';
import {
  apiTestConfig,
  dropQueuePrefix,
  RunningApi,
  startApi,
  uniqueQueuePrefix,
} from './support/api-harness';
import { DbProbeModule } from './support/db-probe.module';
import { httpRequest, isProblem } from './support/http-client';
import { PgAdmin } from './support/pg-admin';

/**
 * What every client sees at the api's edge: errors as RFC 9457 problem+json, the probes,
 * the metrics, and a failed request's transaction leaving nothing behind.
 */
describe('api: problem+json, health, metrics and transactions at the HTTP boundary', () => {
  const prefix = uniqueQueuePrefix('http');
  let db: TestDatabase;
  let admin: PgAdmin;
  let api: RunningApi;

  beforeAll(async () => {
    db = await createTestDatabase('api_http');
    admin = await PgAdmin.connect();
    api = await startApi(apiTestConfig(db, prefix), [DbProbeModule]);
  });

  afterAll(async () => {
    await api?.close();
    await admin?.close();
    await db?.drop();
    await dropQueuePrefix(prefix);
  });

  it('answers an unknown route with a 404 problem', async () => {
    const res = await httpRequest(api.baseUrl, '/no-such-thing?x=1');
    expect(isProblem(res, 404)).toBe(true);
    expect(res.json()).toMatchObject({
      type: 'about:blank',
      title: 'Not Found',
      instance: '/no-such-thing?x=1',
    });
  });

  it('asks for a key before saying whether a /v1 route exists', async () => {
    const res = await httpRequest(api.baseUrl, '/v1/no-such-thing?x=1');
    expect(isProblem(res, 401)).toBe(true);
  });

  it('answers a malformed JSON body with a 400 problem', async () => {
    const res = await httpRequest(api.baseUrl, '/probe/db/collections', {
      method: 'POST',
      body: '{"name": "half',
    });
    expect(isProblem(res, 400)).toBe(true);
    expect(res.json().detail).toMatch(/JSON/);
    // nothing of the parser's internals (stack frames, file paths) reaches the client
    expect(res.text).not.toMatch(/node_modules|\\n\s+at \S/);
  });

  it('answers a body that fails validation with a 400 problem listing each rule', async () => {
    const res = await httpRequest(api.baseUrl, '/probe/db/collections', {
      method: 'POST',
      body: { name: '', outcome: 'maybe', extra: 1 },
    });
    expect(isProblem(res, 400)).toBe(true);
    const errors = res.json<{ errors: string[] }>().errors;
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringContaining('name'),
        expect.stringContaining('outcome'),
        expect.stringContaining('extra'),
      ]),
    );
  });

  it('serves liveness', async () => {
    const res = await httpRequest(api.baseUrl, '/health/live');
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('is ready with the database and Redis up', async () => {
    const res = await httpRequest(api.baseUrl, '/health/ready');
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({
      status: 'ok',
      info: { database: { status: 'up' }, redis: { status: 'up' } },
    });
  });

  it('serves Prometheus text with request durations by route and the pool gauges', async () => {
    await httpRequest(api.baseUrl, '/probe/db/hold?ms=1');
    const res = await httpRequest(api.metricsUrl, '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toMatch(
      /^quarry_http_request_duration_seconds_count\{[^}]*route="\/probe\/db\/hold"[^}]*status_code="200"[^}]*\} [1-9]/m,
    );
    expect(res.text).toMatch(/^quarry_http_request_duration_seconds_bucket\{/m);
    expect(res.text).toMatch(/^quarry_db_pool_connections\{[^}]*pool="primary"[^}]*state="total"/m);
  });

  it('commits a request whose transaction succeeds', async () => {
    const name = `kept-${Date.now()}`;
    const res = await httpRequest(api.baseUrl, '/probe/db/collections', {
      method: 'POST',
      body: { name, outcome: 'commit' },
    });
    expect(res.status).toBe(201);
    const rows = await admin.query(db.name, 'SELECT id FROM collections WHERE name = $1', [name]);
    expect(rows).toEqual([{ id: res.json().id }]);
  });

  it('leaves nothing behind when the handler rejects the request inside its transaction', async () => {
    const name = `conflict-${Date.now()}`;
    const res = await httpRequest(api.baseUrl, '/probe/db/collections', {
      method: 'POST',
      body: { name, outcome: 'conflict' },
    });
    expect(isProblem(res, 409)).toBe(true);
    expect(res.json().detail).toContain(name);
    const rows = await admin.query(db.name, 'SELECT id FROM collections WHERE name = $1', [name]);
    expect(rows).toEqual([]);
  });

  it('leaves nothing behind when a statement violates a constraint, and shows no SQL', async () => {
    const name = `constraint-${Date.now()}`;
    const res = await httpRequest(api.baseUrl, '/probe/db/collections', {
      method: 'POST',
      body: { name, outcome: 'constraint' },
    });
    expect(isProblem(res, 500)).toBe(true);
    expect(res.text).not.toMatch(/ck_documents|INSERT|violates/i);
    const rows = await admin.query(db.name, 'SELECT id FROM collections WHERE name = $1', [name]);
    expect(rows).toEqual([]);
    // the connection went back clean: the next request on the same pool commits
    const next = await httpRequest(api.baseUrl, '/probe/db/collections', {
      method: 'POST',
      body: { name: `${name}-after`, outcome: 'commit' },
    });
    expect(next.status).toBe(201);
  });
});
