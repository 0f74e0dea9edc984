import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  path: string;
  body: unknown;
  apiKey?: string;
}

export type FakeReply =
  | { status: number; body?: unknown; raw?: string }
  /** accept the request and never answer (until the server closes) */
  | 'hang';

export type FakeRoute = (request: SeenRequest, nth: number) => FakeReply | Promise<FakeReply>;

/**
 * A scripted HTTP server for unit tests of the gateway's error handling: each route
 * answers what the test says, in Qdrant's envelope. Integration tests use the emulator
 * (or a real Qdrant) instead.
 */
export class FakeQdrant {
  readonly requests: SeenRequest[] = [];
  private readonly routes = new Map<string, FakeRoute>();
  private readonly hits = new Map<string, number>();
  private readonly server: Server;
  private readonly open = new Set<ServerResponse>();

  constructor() {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  /** `key` is `METHOD /path` without the query string. */
  on(key: string, route: FakeRoute): this {
    this.routes.set(key, route);
    return this;
  }

  count(key: string): number {
    return this.hits.get(key) ?? 0;
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const res of this.open) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const path = (req.url ?? '/').split('?')[0];
    const apiKey = req.headers['api-key'];
    const seen: SeenRequest = {
      apiKey: typeof apiKey === 'string' ? apiKey : undefined,
      method: req.method ?? 'GET',
      path,
      body: text ? JSON.parse(text) : undefined,
    };
    this.requests.push(seen);
    const key = `${seen.method} ${path}`;
    const nth = (this.hits.get(key) ?? 0) + 1;
    this.hits.set(key, nth);
    const route = this.routes.get(key);
    const reply: FakeReply = route
      ? await route(seen, nth)
      : { status: 404, body: { status: { error: `Not found: ${key}` }, time: 0 } };
    if (reply === 'hang') {
      this.open.add(res);
      return;
    }
    const payload = reply.raw ?? JSON.stringify(reply.body ?? {});
    res.writeHead(reply.status, {
      'content-type': reply.raw === undefined ? 'application/json' : 'text/plain',
    });
    res.end(payload);
  }
}

export function ok(result: unknown): FakeReply {
  return { status: 200, body: { result, status: 'ok', time: 0.0001 } };
}

export function fail(status: number, error: string): FakeReply {
  return { status, body: { status: { error }, time: 0.0001 } };
}

export function collectionInfo(size: number, distance: string, payloadSchema = {}): unknown {
  return {
    status: 'green',
    optimizer_status: 'ok',
    segments_count: 1,
    points_count: 0,
    indexed_vectors_count: 0,
    config: {
      params: { vectors: { size, distance }, shard_number: 1, replication_factor: 1 },
      hnsw_config: { m: 16, ef_construct: 100, full_scan_threshold: 10000 },
      optimizer_config: {},
      wal_config: { wal_capacity_mb: 32, wal_segments_ahead: 0 },
    },
    payload_schema: payloadSchema,
  };
}
