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

/** Counts one answer (or failure) into a LoadResult's tallies. */
class Tally {
  readonly latenciesMs: number[] = [];
  readonly statuses: Record<string, number> = {};
  readonly failures: string[] = [];

  constructor(private readonly expectedStatus: number) {}

  async take(send: () => Promise<HttpAnswer>, from?: number): Promise<void> {
    try {
      const answer = await send();
      this.statuses[answer.status] = (this.statuses[answer.status] ?? 0) + 1;
      if (answer.status === this.expectedStatus) {
        // From the intended start when there is one: a late send counts its wait.
        this.latenciesMs.push(from === undefined ? answer.ms : performance.now() - from);
      } else if (this.failures.length < 5) {
        this.failures.push(`${answer.status} ${answer.body.slice(0, 300)}`);
      }
    } catch (err) {
      this.statuses.error = (this.statuses.error ?? 0) + 1;
      if (this.failures.length < 5) this.failures.push(String(err));
    }
  }

  result(started: number): LoadResult {
    const { latenciesMs, statuses, failures } = this;
    return { latenciesMs, statuses, failures, wallMs: performance.now() - started };
  }
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
  const tally = new Tally(expectedStatus);
  let next = 0;
  const started = performance.now();
  const client = async () => {
    while (next < total) {
      const index = next++;
      await tally.take(() => send(index));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, client));
  return tally.result(started);
}

/**
 * An open loop: `clients` clients, each sending one request every `intervalMs` (their
 * starts spread evenly over one interval), `total` requests in all. Latency runs from the
 * moment a request was due, so a send delayed by its client's previous answer counts the
 * delay (no coordinated omission).
 */
export async function pacedLoop(
  clients: number,
  intervalMs: number,
  total: number,
  send: (index: number) => Promise<HttpAnswer>,
  expectedStatus: number,
): Promise<LoadResult> {
  const tally = new Tally(expectedStatus);
  const started = performance.now();
  const client = async (c: number) => {
    for (let index = c, k = 0; index < total; index += clients, k++) {
      const due = started + (c / clients) * intervalMs + k * intervalMs;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      await tally.take(() => send(index), due);
    }
  };
  await Promise.all(Array.from({ length: Math.min(clients, total) }, (_, c) => client(c)));
  return tally.result(started);
}
