import { IncomingMessage, ServerResponse } from 'node:http';
import { formatJsonError } from './json-error';
import { JsonParsePool } from './json-parse-pool';
import { QdrantError } from './qdrant-error';

export interface RequestContext {
  params: string[];
  query: URLSearchParams;
  req: IncomingMessage;
  res: ServerResponse;
  rawBody: Buffer;
  /** Parsed JSON body; undefined when the request had none. */
  json(): unknown;
  /** The same, parsed off the event loop when the body is large. */
  jsonAsync(): Promise<unknown>;
  /** An upsert body, likewise, with dense vectors of the plain `{points}` form as Float32Array. */
  upsertJsonAsync(): Promise<unknown>;
  /** Seconds since the request arrived, for the envelope's `time`. */
  elapsed(): number;
}

/** A handler returns the `result` to wrap in the envelope, or RAW when it wrote the response. */
export type Handler = (ctx: RequestContext) => unknown | Promise<unknown>;
export const RAW = Symbol('raw');

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

const MAX_BODY = 1024 * 1024 * 1024;

function jsonError(text: string, error: unknown): QdrantError {
  return QdrantError.format(formatJsonError(text, error));
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  time: number,
): void {
  sendJson(res, status, { status: { error: message }, time });
}

/** Matches `METHOD /path` against registered patterns; answers in Qdrant's envelope. */
export class Router {
  private readonly routes: Route[] = [];
  readonly parser = new JsonParsePool();

  add(method: string, path: string, handler: Handler): void {
    const pattern = new RegExp(
      `^${path.replace(/\{[a-z_]+\}/g, '([^/]+)').replace(/\//g, '\\/')}$`,
    );
    this.routes.push({ method, pattern, handler });
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
    const url = new URL(req.url ?? '/', 'http://localhost');
    let match: RegExpExecArray | null = null;
    let route: Route | undefined;
    let pathMatched = false;
    for (const candidate of this.routes) {
      const m = candidate.pattern.exec(url.pathname);
      if (!m) continue;
      pathMatched = true;
      if (candidate.method === req.method) {
        match = m;
        route = candidate;
        break;
      }
    }
    const chunks: Buffer[] = [];
    let size = 0;
    // A large body goes straight into one buffer of its declared length (reused memory).
    const declared = Number(req.headers['content-length']);
    let into =
      route && Number.isSafeInteger(declared) && declared <= MAX_BODY
        ? this.parser.bodyBuffer(declared)
        : null;
    for await (const chunk of req) {
      const part = chunk as Buffer;
      if (into !== null && size + part.length <= into.length) {
        part.copy(into, size);
      } else {
        if (into !== null) {
          // More than declared (the HTTP parser does not let that happen): collect chunks.
          chunks.push(into.subarray(0, size));
          into = null;
        }
        chunks.push(part);
      }
      size += part.length;
      if (size > MAX_BODY) {
        sendError(res, 413, 'Payload too large', elapsed());
        return;
      }
    }
    if (!route || !match) {
      res.writeHead(pathMatched ? 405 : 404, { 'content-length': 0 });
      res.end();
      return;
    }
    const rawBody =
      into !== null
        ? into.subarray(0, size)
        : chunks.length === 1
          ? chunks[0]
          : Buffer.concat(chunks);
    let parsed: { value: unknown } | null = null;
    // The body is parsed at most once, by whichever parser the route asks for first.
    const parseOnce = async (
      parse: (body: Buffer, fallback: () => unknown) => Promise<unknown>,
    ): Promise<unknown> => {
      if (parsed) return parsed.value;
      if (rawBody.length === 0) return ctx.json();
      const value = await parse(rawBody, () => ctx.json());
      parsed = { value };
      return value;
    };
    const ctx: RequestContext = {
      params: match.slice(1).map((p) => decodeURIComponent(p)),
      query: url.searchParams,
      req,
      res,
      rawBody,
      elapsed,
      json: () => {
        if (parsed) return parsed.value;
        if (rawBody.length === 0) {
          parsed = { value: undefined };
          return undefined;
        }
        const text = rawBody.toString('utf8');
        try {
          parsed = { value: JSON.parse(text) };
        } catch (err) {
          throw jsonError(text, err);
        }
        return parsed.value;
      },
      jsonAsync: () => parseOnce((body, fallback) => this.parser.parse(body, fallback)),
      upsertJsonAsync: () => parseOnce((body, fallback) => this.parser.parseUpsert(body, fallback)),
    };
    try {
      const result = await route.handler(ctx);
      if (result === RAW) return;
      sendJson(res, 200, { result, status: 'ok', time: elapsed() });
    } catch (err) {
      if (err instanceof QdrantError) {
        sendError(res, err.statusCode, err.message, elapsed());
      } else {
        const message = err instanceof Error ? err.message : String(err);
        sendError(res, 500, `Service internal error: ${message}`, elapsed());
      }
    }
  }
}
