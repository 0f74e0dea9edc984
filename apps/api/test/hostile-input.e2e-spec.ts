import { createTestDatabase, TestDatabase } from '@quarry/testing';
import * as http from 'node:http';
import { connect } from 'node:net';
import { Client } from 'pg';
import { apiTestEnv, dropQueuePrefix, uniqueQueuePrefix } from './support/api-harness';
import { HttpResult, httpRequest, isProblem } from './support/http-client';
import { freePort } from '@quarry/testing';
import { compiled, NodeProcess } from './support/node-process';

/** Planted in every hostile request; it must never reach a log line. */
const MARKER = 'MARKER-9c41e7b2';
const DEV_KEY = 'hostile-dev-key-0123456789';
const UPLOAD_MAX_BYTES = 2 * 1024 * 1024;
const JSON_BODY_MAX_BYTES = 64 * 1024;
const SEARCHES_PER_MIN = 40;

interface Part {
  name: string;
  value: string | Buffer;
  filename?: string;
  type?: string;
}

function multipart(parts: Part[]): { body: Buffer; type: string } {
  const boundary = `----quarry${Date.now()}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    // Control characters can only travel percent-encoded (RFC 5987), as a browser sends them.
    const disposition = part.filename
      ? `form-data; name="${part.name}"; filename*=utf-8''${encodeURIComponent(part.filename)}`
      : `form-data; name="${part.name}"`;
    const head = `--${boundary}\r\nContent-Disposition: ${disposition}\r\n${
      part.type ? `Content-Type: ${part.type}\r\n` : ''
    }\r\n`;
    chunks.push(Buffer.from(head, 'utf8'), Buffer.from(part.value), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), type: `multipart/form-data; boundary=${boundary}` };
}

/** Sends a raw body (Buffer allowed) and reads the answer, like a client that means harm. */
function send(
  baseUrl: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer | string },
): Promise<HttpResult> {
  const body = options.body === undefined ? undefined : Buffer.from(options.body);
  const headers = { ...options.headers };
  if (body) headers['content-length'] = String(body.length);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      new URL(path, baseUrl),
      { method: options.method ?? 'POST', headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            ms: Date.now() - started,
            finishedAt: Date.now(),
            json: <T>() => JSON.parse(text) as T,
          });
        });
      },
    );
    // The api may answer and close before reading a refused body.
    req.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err),
    );
    req.setTimeout(30_000, () => req.destroy(new Error(`${path}: no answer`)));
    req.end(body);
  });
}

/**
 * The compiled api in its own process, attacked the way issue reports did it: every
 * hostile request ends in a clear 4xx (or 503/429 with Retry-After) problem, stores
 * nothing, leaves /health/live answering, and no request data reaches the logs, which are
 * captured whole at debug level.
 */
describe('api: hostile input', () => {
  const prefix = uniqueQueuePrefix('hostile');
  let db: TestDatabase;
  let api: NodeProcess;
  let baseUrl: string;
  let pg: Client;
  let collectionId: string;
  const auth = { Authorization: `Bearer ${DEV_KEY}` };

  const documentsStored = async (): Promise<number> =>
    Number((await pg.query(`SELECT count(*) AS n FROM documents`)).rows[0].n);
  const blobsStored = async (): Promise<number> =>
    Number((await pg.query(`SELECT count(*) AS n FROM document_blobs`)).rows[0].n);

  /** The api answers its probe, whatever was just thrown at it. */
  const expectLive = async (): Promise<void> => {
    const res = await httpRequest(baseUrl, '/health/live', { timeoutMs: 5_000 });
    expect(res.status).toBe(200);
  };

  const expectRefused = async (
    res: HttpResult,
    status: number,
    stored = { documents: 0, blobs: 0 },
  ): Promise<void> => {
    expect({ status: res.status, problem: isProblem(res, status) }).toEqual({
      status,
      problem: true,
    });
    expect(await documentsStored()).toBe(stored.documents);
    expect(await blobsStored()).toBe(stored.blobs);
    await expectLive();
  };

  beforeAll(async () => {
    db = await createTestDatabase('api_hostile');
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    const port = await freePort();
    api = new NodeProcess(
      compiled('apps/api/src/main.js'),
      [],
      apiTestEnv(db, prefix, {
        PORT: String(port),
        METRICS_PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'debug',
        QUARRY_DEV_API_KEY: DEV_KEY,
        UPLOAD_MAX_BYTES: String(UPLOAD_MAX_BYTES),
        UPLOAD_INFLIGHT_MAX_BYTES: String(UPLOAD_MAX_BYTES + 1024 * 1024),
        JSON_BODY_MAX_BYTES: String(JSON_BODY_MAX_BYTES),
        RATE_LIMIT_AUTH_FAILURES_PER_MIN: '5',
        RATE_LIMIT_SEARCHES_PER_MIN: String(SEARCHES_PER_MIN),
        SSE_MAX_STREAMS_PER_KEY: '2',
        UPLOAD_MAX_CONCURRENT_PER_KEY: '2',
        HTTP_HEADERS_TIMEOUT_MS: '1500',
        HTTP_REQUEST_TIMEOUT_MS: '3000',
      }),
    );
    baseUrl = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const up = await httpRequest(baseUrl, '/health/live', { timeoutMs: 1_000 }).catch(() => null);
      if (up?.status === 200) break;
      if (!api.running || Date.now() > deadline)
        throw new Error(`api did not start: ${api.stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const created = await httpRequest(baseUrl, '/v1/collections', {
      method: 'POST',
      headers: auth,
      body: { name: 'hostile' },
    });
    expect(created.status).toBe(201);
    collectionId = created.json<{ id: string }>().id;
  }, 90_000);

  afterAll(async () => {
    await api?.stop();
    await pg?.end();
    await db?.drop();
    await dropQueuePrefix(prefix);
  });

  describe('bodies bounded before they are read', () => {
    it('refuses a huge JSON body without a key with a 401, before reading it', async () => {
      // Only the first 64 KiB of a claimed 100 MB body is sent: the answer must come anyway.
      const res = await new Promise<{ status: number; type: string }>((resolve, reject) => {
        const req = http.request(new URL('/v1/documents/text', baseUrl), {
          method: 'POST',
          agent: false,
          headers: { 'content-type': 'application/json', 'content-length': String(100 << 20) },
        });
        req.on('response', (answer) => {
          resolve({ status: answer.statusCode ?? 0, type: String(answer.headers['content-type']) });
          req.destroy();
        });
        req.on('error', (err: NodeJS.ErrnoException) =>
          err.code === 'ECONNRESET' ? undefined : reject(err),
        );
        req.write(`{"text":"${MARKER}","a":[${'{},'.repeat(20_000)}`);
      });
      expect(res).toEqual({
        status: 401,
        type: expect.stringMatching(/^application\/problem\+json/),
      });
      expect(await documentsStored()).toBe(0);
      await expectLive();
    });

    it('refuses a JSON body over JSON_BODY_MAX_BYTES on an ordinary route with a 413', async () => {
      const res = await send(baseUrl, '/v1/collections', {
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'x', description: MARKER.repeat(10_000) }),
      });
      await expectRefused(res, 413);
    });

    it('refuses a text upload over UPLOAD_MAX_BYTES with a 413 from its Content-Length', async () => {
      const text = `${MARKER} `.repeat((UPLOAD_MAX_BYTES * 2) / 8);
      const res = await send(baseUrl, '/v1/documents/text', {
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ title: 't', text, collection_id: collectionId }),
      });
      await expectRefused(res, 413);
    });

    it('refuses deeply nested JSON with a 400, with and without a key', async () => {
      const deep = `{"query":"${MARKER}","filter":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
      for (const headers of [auth, {}]) {
        const res = await send(baseUrl, '/v1/search', {
          headers: { ...headers, 'content-type': 'application/json' },
          body: deep,
        });
        await expectRefused(res, 'Authorization' in headers ? 400 : 401);
      }
    });

    it('refuses a multipart upload over UPLOAD_MAX_BYTES with a 413, storing nothing', async () => {
      const form = multipart([
        { name: 'collection_id', value: collectionId },
        {
          name: 'file',
          value: Buffer.alloc(UPLOAD_MAX_BYTES + 10, `${MARKER}\n`),
          filename: 'big.txt',
          type: 'text/plain',
        },
      ]);
      const res = await send(baseUrl, '/v1/documents', {
        headers: { ...auth, 'content-type': form.type },
        body: form.body,
      });
      await expectRefused(res, 413);
    });

    it('answers malformed JSON with a 400 that does not echo the body', async () => {
      const res = await send(baseUrl, '/v1/collections', {
        headers: { ...auth, 'content-type': 'application/json' },
        body: `{"name": "${MARKER}`,
      });
      await expectRefused(res, 400);
      expect(res.text).not.toContain(MARKER);
    });
  });

  describe('values PostgreSQL cannot take are a 400, never a 500', () => {
    const textUpload = (metadata: string): Promise<HttpResult> =>
      send(baseUrl, '/v1/documents/text', {
        headers: { ...auth, 'content-type': 'application/json' },
        body: `{"title":"t","text":"${MARKER}","collection_id":"${collectionId}","metadata":${metadata}}`,
      });
    const fileUpload = (metadata: string): Promise<HttpResult> => {
      const form = multipart([
        { name: 'collection_id', value: collectionId },
        { name: 'metadata', value: metadata },
        { name: 'file', value: `${MARKER} body`, filename: 'a.txt', type: 'text/plain' },
      ]);
      return send(baseUrl, '/v1/documents', {
        headers: { ...auth, 'content-type': form.type },
        body: form.body,
      });
    };

    it.each([
      ['a NUL character', `{"k":"${MARKER}\\u0000"}`],
      ['a NUL character in a key', `{"${MARKER}\\u0000":1}`],
      ['an unpaired surrogate', `{"k":"${MARKER}\\ud800"}`],
      ['deep nesting', `{"k":${'{"k":'.repeat(100)}1${'}'.repeat(100)}}`],
    ])('metadata with %s, in a file upload and in a text upload', async (_what, metadata) => {
      await expectRefused(await fileUpload(metadata), 400);
      await expectRefused(await textUpload(metadata), 400);
    });

    it('a search query with a NUL character', async () => {
      for (const mode of ['keyword', 'hybrid', 'semantic']) {
        const res = await send(baseUrl, '/v1/search', {
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ query: `${MARKER}\u0000`, mode }),
        });
        expect([200, 400]).toContain(res.status);
        if (res.status === 400) await expectRefused(res, 400);
      }
    });

    it('a search filter with a NUL character or an unpaired surrogate', async () => {
      for (const value of [`${MARKER}\u0000`, `${MARKER}\ud800`]) {
        const res = await send(baseUrl, '/v1/search', {
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ query: 'x', mode: 'keyword', filter: { metadata: { k: value } } }),
        });
        expect(res.status).not.toBe(500);
        expect(res.status).toBeLessThan(500);
      }
      await expectLive();
    });

    it('out-of-range offsets, limits and malformed query parameters', async () => {
      const id = '00000000-0000-4000-8000-000000000000';
      for (const path of [
        `/v1/documents/${id}/chunks?offset=99999999999999999999&m=${MARKER}`,
        `/v1/documents/${id}/chunks?limit=-1`,
        `/v1/documents?limit=${MARKER}`,
        `/v1/documents?created_after=${MARKER}`,
        `/v1/documents?cursor=${MARKER}`,
        `/v1/documents?collection_id=${MARKER}`,
        `/v1/documents?status=${MARKER}`,
      ]) {
        const res = await send(baseUrl, path, { method: 'GET', headers: auth });
        expect({ path, status: res.status }).toEqual({ path, status: 400 });
        expect(isProblem(res, 400)).toBe(true);
      }
      await expectLive();
    });
  });

  it('sanitizes filenames with control characters and path traversal', async () => {
    const form = multipart([
      { name: 'collection_id', value: collectionId },
      {
        name: 'file',
        value: `${MARKER} a legitimate document`,
        filename: '../../etc/pa\u0001ss\u001bwd.txt',
        type: 'text/plain',
      },
    ]);
    const res = await send(baseUrl, '/v1/documents', {
      headers: { ...auth, 'content-type': form.type },
      body: form.body,
    });
    expect(res.status).toBe(202);
    const doc = await httpRequest(
      baseUrl,
      `/v1/documents/${res.json<{ document_id: string }>().document_id}`,
      { headers: auth },
    );
    expect(doc.json<{ filename: string }>().filename).toBe('passwd.txt');
    expect(await documentsStored()).toBe(1);
    // Removed again so the other cases can count on an empty table.
    await pg.query(`DELETE FROM document_blobs; DELETE FROM documents`);
  });

  it('answers 503 with Retry-After past UPLOAD_INFLIGHT_MAX_BYTES, storing nothing', async () => {
    // A slow upload holds UPLOAD_MAX_BYTES of the budget until it is answered.
    const slow = http.request(new URL('/v1/documents', baseUrl), {
      method: 'POST',
      agent: false,
      headers: {
        ...auth,
        'content-type': 'multipart/form-data; boundary=x',
        'content-length': String(UPLOAD_MAX_BYTES),
      },
    });
    slow.on('error', () => undefined);
    slow.write('--x\r\n');
    await new Promise((r) => setTimeout(r, 300));
    const form = multipart([
      { name: 'collection_id', value: collectionId },
      { name: 'file', value: Buffer.alloc(UPLOAD_MAX_BYTES / 2, 'a'), filename: 'b.txt' },
    ]);
    const res = await send(baseUrl, '/v1/documents', {
      headers: { ...auth, 'content-type': form.type },
      body: form.body,
    });
    slow.destroy();
    await expectRefused(res, 503);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('caps uploads in progress per key with a 429, so slow ones cannot hold the budget', async () => {
    const slowUpload = (): http.ClientRequest => {
      const req = http.request(new URL('/v1/documents', baseUrl), {
        method: 'POST',
        agent: false,
        headers: {
          ...auth,
          'content-type': 'multipart/form-data; boundary=x',
          'content-length': '1000',
        },
      });
      req.on('error', () => undefined);
      req.write('--x\r\n');
      return req;
    };
    const slow = [slowUpload(), slowUpload()];
    try {
      await new Promise((r) => setTimeout(r, 500));
      const form = multipart([
        { name: 'collection_id', value: collectionId },
        { name: 'file', value: `${MARKER} third`, filename: 'c.txt' },
      ]);
      const third = await send(baseUrl, '/v1/documents', {
        headers: { ...auth, 'content-type': form.type },
        body: form.body,
      });
      await expectRefused(third, 429);
      expect(Number(third.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      for (const req of slow) req.destroy();
    }
  });

  it('caps concurrent event streams per key with a 429', async () => {
    const uploaded = await send(baseUrl, '/v1/documents/text', {
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'sse', text: 'stream me', collection_id: collectionId }),
    });
    expect(uploaded.status).toBe(202);
    const id = uploaded.json<{ document_id: string }>().document_id;
    const open: http.ClientRequest[] = [];
    const openStream = (): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = http.get(
          new URL(`/v1/documents/${id}/events`, baseUrl),
          { headers: auth, agent: false },
          (res) => {
            resolve(res.statusCode ?? 0);
            res.resume();
          },
        );
        req.on('error', (err: NodeJS.ErrnoException) =>
          err.code === 'ECONNRESET' ? undefined : reject(err),
        );
        open.push(req);
      });
    try {
      expect(await openStream()).toBe(200);
      expect(await openStream()).toBe(200);
      const third = await httpRequest(baseUrl, `/v1/documents/${id}/events`, { headers: auth });
      expect(isProblem(third, 429)).toBe(true);
      expect(Number(third.headers['retry-after'])).toBeGreaterThan(0);
      await expectLive();
    } finally {
      for (const req of open) req.destroy();
    }
    await pg.query(`DELETE FROM document_blobs; DELETE FROM documents`);
  });

  it('limits searches per key with a 429 and Retry-After', async () => {
    const statuses: number[] = [];
    let limited: HttpResult | undefined;
    for (let i = 0; i < SEARCHES_PER_MIN + 5 && !limited; i++) {
      const res = await httpRequest(baseUrl, '/v1/search', {
        method: 'POST',
        headers: auth,
        body: { query: 'anything', mode: 'keyword' },
      });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    expect(limited).toBeDefined();
    expect(isProblem(limited!, 429)).toBe(true);
    expect(Number(limited!.headers['retry-after'])).toBeGreaterThan(0);
    await expectLive();
  });

  it('refuses an address that keeps guessing keys, before its guesses cost a lookup', async () => {
    const guess = (key: string) =>
      httpRequest(baseUrl, '/v1/collections', {
        headers: { Authorization: `Bearer ${key}`, 'X-Forwarded-For': '203.0.113.7' },
      });
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await guess(`qk_${MARKER}${i}`)).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    const blocked = await guess(`qk_${MARKER}last`);
    expect(isProblem(blocked, 429)).toBe(true);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    // Another address is not affected.
    expect((await httpRequest(baseUrl, '/v1/collections', { headers: auth })).status).toBe(200);
  });

  it('logs a refusal by PostgreSQL without the upload it carried', async () => {
    // A constraint the api does not know about: the insert fails inside PostgreSQL with
    // the whole file among its parameters, the path of issue 14's 154 MB log line.
    await pg.query(
      `ALTER TABLE documents ADD CONSTRAINT hostile_refusal CHECK (filename <> 'refuse-me.txt')`,
    );
    try {
      const form = multipart([
        { name: 'collection_id', value: collectionId },
        { name: 'metadata', value: JSON.stringify({ note: MARKER }) },
        { name: 'file', value: `${MARKER} `.repeat(1000), filename: 'refuse-me.txt' },
      ]);
      const res = await send(baseUrl, '/v1/documents', {
        headers: { ...auth, 'content-type': form.type },
        body: form.body,
      });
      await expectRefused(res, 500);
      expect(res.text).not.toContain(MARKER);
      expect(api.stdout).toContain('hostile_refusal');
    } finally {
      await pg.query(`ALTER TABLE documents DROP CONSTRAINT hostile_refusal`);
    }
  });

  it('answers an unknown route with a 404 and logs its query without values', async () => {
    const res = await httpRequest(baseUrl, `/no-such-route?q=${MARKER}`);
    expect(isProblem(res, 404)).toBe(true);
  });

  it.each([
    ['headers that never end', 'GET /health/live HTTP/1.1\r\nHost: quarry\r\nX-Slow: '],
    [
      'a body that never ends',
      `POST /v1/collections HTTP/1.1\r\nHost: quarry\r\nAuthorization: Bearer ${DEV_KEY}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"name":',
    ],
  ])('cuts off a client that sends %s', async (_what, start) => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(baseUrl).port), '127.0.0.1', () => socket.write(start));
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
      socket.on('close', () => resolve(received));
      socket.on('error', reject);
      // Far above the configured deadlines: only a server that never cuts it off fails here.
      setTimeout(() => {
        socket.destroy();
        reject(new Error('the api kept the connection open'));
      }, 30_000);
    });
    expect(answer.startsWith('HTTP/1.1 408')).toBe(true);
    await expectLive();
  });

  it('counts guessed dashboard passwords against the same per-address budget', async () => {
    const guess = (n: number) =>
      httpRequest(baseUrl, '/admin/queues', {
        headers: {
          Authorization: `Basic ${Buffer.from(`admin:${MARKER}${n}`).toString('base64')}`,
          'X-Forwarded-For': '203.0.113.9',
        },
      });
    const statuses: number[] = [];
    for (let n = 0; n < 5; n++) statuses.push((await guess(n)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    const blocked = await guess(5);
    expect(isProblem(blocked, 429)).toBe(true);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('serves no metrics on the public port', async () => {
    expect((await httpRequest(baseUrl, '/metrics')).status).toBe(404);
  });

  it('wrote none of the request data above to any log line', async () => {
    // Something was logged (debug level), so an empty capture cannot pass this test.
    expect(api.stdout.length).toBeGreaterThan(1_000);
    const leaked = api.stdout.split('\n').filter((line) => line.includes(MARKER));
    expect(leaked.map((line) => line.slice(0, 2_000))).toEqual([]);
    expect(api.stderr).not.toContain(MARKER);
  });
});
