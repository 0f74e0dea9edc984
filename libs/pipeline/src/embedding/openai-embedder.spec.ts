import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  EmbedderRejectedError,
  EmbedderUnavailableError,
  EmbeddingDimensionMismatchError,
  isPermanent,
} from '../pipeline-errors';
import { embeddingsUrl, OpenAiEmbedder, retryAfterMs } from './openai-embedder';

interface SeenRequest {
  url: string;
  authorization?: string;
  body: { model: string; input: string[] };
}

type Responder = (req: SeenRequest, res: ServerResponse, n: number) => void;

/** A fake embedding vector that encodes the input, so order can be checked. */
function vectorFor(text: string, dim: number): number[] {
  return Array.from({ length: dim }, (_, i) => (i === 0 ? text.length : i));
}

function ok(res: ServerResponse, input: string[], dim: number, reverse = false): void {
  const data = input.map((t, index) => ({
    object: 'embedding',
    index,
    embedding: vectorFor(t, dim),
  }));
  if (reverse) data.reverse();
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ object: 'list', data, model: 'test-model' }));
}

describe('OpenAiEmbedder against a local server', () => {
  let server: Server;
  let baseUrl: string;
  let seen: SeenRequest[];
  let responder: Responder;

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const entry: SeenRequest = {
          url: req.url ?? '',
          authorization: req.headers.authorization,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
        };
        seen.push(entry);
        responder(entry, res, seen.length);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(() => {
    seen = [];
    responder = (req, res) => ok(res, req.body.input, 4);
  });

  const make = (extra: Partial<ConstructorParameters<typeof OpenAiEmbedder>[0]> = {}) =>
    new OpenAiEmbedder({
      baseUrl,
      model: 'test-model',
      apiKey: 'sk-test',
      dimension: 4,
      batchSize: 2,
      timeoutMs: 2_000,
      maxAttempts: 3,
      retryBaseMs: 10,
      maxBackoffMs: 50,
      ...extra,
    });

  it('sends batches of batchSize with the model and a Bearer key, keeping input order', async () => {
    responder = (req, res) => ok(res, req.body.input, 4, true);
    const texts = ['a', 'bb', 'ccc', '데비안은', 'eeeee'];
    const vectors = await make().embed(texts);
    expect(seen.map((r) => r.body.input)).toEqual([['a', 'bb'], ['ccc', '데비안은'], ['eeeee']]);
    expect(seen.every((r) => r.url === '/v1/embeddings')).toBe(true);
    expect(seen.every((r) => r.authorization === 'Bearer sk-test')).toBe(true);
    expect(seen.every((r) => r.body.model === 'test-model')).toBe(true);
    expect(vectors.map((v) => v[0])).toEqual(texts.map((t) => t.length));
    expect(vectors.every((v) => v.length === 4)).toBe(true);
  });

  it('accepts a base URL that already ends in /v1 and sends no key when none is set', async () => {
    await make({ baseUrl: `${baseUrl}/v1/`, apiKey: undefined }).embed(['x']);
    expect(seen[0].url).toBe('/v1/embeddings');
    expect(seen[0].authorization).toBeUndefined();
  });

  it('waits for Retry-After on 429, then succeeds', async () => {
    responder = (req, res, n) => {
      if (n === 1) {
        res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'Rate limit reached' } }));
      } else {
        ok(res, req.body.input, 4);
      }
    };
    const started = Date.now();
    const vectors = await make().embed(['one']);
    expect(vectors).toHaveLength(1);
    expect(seen).toHaveLength(2);
    // Retry-After says one second; the 10 ms backoff alone would have retried sooner.
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('retries a 5xx and then succeeds', async () => {
    responder = (req, res, n) => {
      if (n <= 2) {
        res.writeHead(n === 1 ? 503 : 502);
        res.end('upstream busy');
      } else {
        ok(res, req.body.input, 4);
      }
    };
    const vectors = await make().embed(['one', 'two']);
    expect(vectors).toHaveLength(2);
    expect(seen).toHaveLength(3);
  });

  it('gives up after maxAttempts with a transient error', async () => {
    responder = (_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'model crashed' } }));
    };
    const err = await make()
      .embed(['one'])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmbedderUnavailableError);
    expect(isPermanent(err)).toBe(false);
    expect((err as EmbedderUnavailableError).status).toBe(500);
    expect((err as Error).message).toMatch(/HTTP 500: model crashed/);
    expect(seen).toHaveLength(3);
  });

  it('does not retry a 400 and reports the server message as permanent', async () => {
    responder = (_req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: { message: "This model's maximum context length is 8192 tokens" },
        }),
      );
    };
    const err = await make()
      .embed(['too long'])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmbedderRejectedError);
    expect(isPermanent(err)).toBe(true);
    expect((err as Error).message).toMatch(
      /HTTP 400\): This model's maximum context length is 8192 tokens/,
    );
    expect(seen).toHaveLength(1);
  });

  it('does not retry a 401 either', async () => {
    responder = (_req, res) => {
      res.writeHead(401);
      res.end('Invalid API key');
    };
    await expect(make().embed(['x'])).rejects.toThrow(/HTTP 401\): Invalid API key/);
    expect(seen).toHaveLength(1);
  });

  it('times out a request that never answers and retries it', async () => {
    responder = () => {
      // Never answer.
    };
    const err = await make({ timeoutMs: 150, maxAttempts: 2 })
      .embed(['slow'])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmbedderUnavailableError);
    expect((err as Error).message).toMatch(/did not answer within 150 ms/);
    expect(seen).toHaveLength(2);
  });

  it('explains a dimension mismatch', async () => {
    responder = (req, res) => ok(res, req.body.input, 3);
    const err = await make()
      .embed(['x'])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmbeddingDimensionMismatchError);
    expect(isPermanent(err)).toBe(true);
    expect((err as Error).message).toMatch(
      /returns 3-dimensional embeddings but EMBEDDING_DIM is 4/,
    );
  });

  it('rejects a reply with the wrong number of embeddings', async () => {
    responder = (req, res) => ok(res, req.body.input.slice(1), 4);
    await expect(make().embed(['a', 'b'])).rejects.toThrow(/returned 1 embeddings for 2 inputs/);
  });

  it('reports an unreachable server as transient', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const err = await make({ baseUrl: `http://127.0.0.1:${port}`, maxAttempts: 2 })
      .embed(['x'])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmbedderUnavailableError);
    expect((err as Error).message).toMatch(/could not be reached/);
  });

  it('stops waiting when the caller aborts', async () => {
    responder = (_req, res) => {
      res.writeHead(429, { 'retry-after': '30' });
      res.end();
    };
    const controller = new AbortController();
    const pending = make().embed(['x'], { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('job cancelled')), 100);
    await expect(pending).rejects.toThrow('job cancelled');
    expect(seen).toHaveLength(1);
  });
});

describe('embeddingsUrl', () => {
  it.each([
    ['https://api.openai.com', 'https://api.openai.com/v1/embeddings'],
    ['https://api.openai.com/', 'https://api.openai.com/v1/embeddings'],
    ['http://localhost:11434/v1', 'http://localhost:11434/v1/embeddings'],
    ['http://tei:8080/v1/embeddings', 'http://tei:8080/v1/embeddings'],
  ])('%s → %s', (base, url) => {
    expect(embeddingsUrl(base)).toBe(url);
  });
});

describe('retryAfterMs', () => {
  const now = Date.parse('2026-01-15T09:00:00Z');

  it('reads seconds and HTTP dates, capped at a minute', () => {
    expect(retryAfterMs('2', now)).toBe(2000);
    expect(retryAfterMs('0.5', now)).toBe(500);
    expect(retryAfterMs('Thu, 15 Jan 2026 09:00:03 GMT', now)).toBe(3000);
    expect(retryAfterMs('Thu, 15 Jan 2026 08:59:00 GMT', now)).toBe(0);
    expect(retryAfterMs('3600', now)).toBe(60_000);
  });

  it('ignores missing or malformed values', () => {
    expect(retryAfterMs(null, now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
  });
});
