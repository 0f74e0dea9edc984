import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface HttpAnswer {
  status: number;
  body: string;
  /** from the first byte written to the last byte read, in ms */
  ms: number;
}

/** A keep-alive client for one target: one socket per concurrent client, reused. */
export class HttpTarget {
  private readonly agent: Agent;
  private readonly url: URL;

  constructor(
    baseUrl: string,
    private readonly headers: Record<string, string> = {},
    maxSockets = 64,
  ) {
    this.url = new URL(baseUrl);
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  send(
    method: string,
    path: string,
    body?: string | Buffer,
    headers: Record<string, string> = {},
  ): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const req = request(
        {
          host: this.url.hostname,
          port: this.url.port,
          method,
          path,
          agent: this.agent,
          headers: {
            ...this.headers,
            ...(body === undefined ? {} : { 'content-length': Buffer.byteLength(body) }),
            ...headers,
          },
        },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (chunk: Buffer) => parts.push(chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(parts).toString('utf8'),
              ms: performance.now() - started,
            }),
          );
          res.on('error', reject);
        },
      );
      req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  postJson(path: string, body: string): Promise<HttpAnswer> {
    return this.send('POST', path, body, { 'content-type': 'application/json' });
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface LoadResult {
  latenciesMs: number[];
  statuses: Record<string, number>;
  /** the first few unexpected answers, for the report */
  failures: string[];
  wallMs: number;
}

/**
 * `total` requests from `concurrency` clients, each sending its next request as soon as
 * its previous one is answered (a closed loop: the clients wait, as real ones do).
 */
export async function closedLoop(
  concurrency: number,
  total: number,
  send: (index: number) => Promise<HttpAnswer>,
  expectedStatus: number,
): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  const statuses: Record<string, number> = {};
  const failures: string[] = [];
  let next = 0;
  const started = performance.now();
  const client = async () => {
    while (next < total) {
      const index = next++;
      try {
        const answer = await send(index);
        statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
        if (answer.status === expectedStatus) latenciesMs.push(answer.ms);
        else if (failures.length < 5)
          failures.push(`${answer.status} ${answer.body.slice(0, 300)}`);
      } catch (err) {
        statuses.error = (statuses.error ?? 0) + 1;
        if (failures.length < 5) failures.push(String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, client));
  return { latenciesMs, statuses, failures, wallMs: performance.now() - started };
}
