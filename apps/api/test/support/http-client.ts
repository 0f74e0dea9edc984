import * as http from 'node:http';

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** wall-clock time from sending the request to the last byte of the answer */
  ms: number;
  /** when the last byte arrived (Date.now()) */
  finishedAt: number;
  json<T = Record<string, unknown>>(): T;
}

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  /** sent as it is (so a test can send malformed JSON); objects are JSON-encoded */
  body?: string | object;
  /** false (the default) opens a fresh connection per request, as a new client would */
  agent?: http.Agent | false;
  /** the request fails with an error instead of hanging past this */
  timeoutMs?: number;
}

/**
 * A plain node:http request with its own timing: no retries, no redirects, no pooling
 * unless an agent is given, so what a test measures is what the api did.
 */
export function httpRequest(
  baseUrl: string,
  path: string,
  options: HttpOptions = {},
): Promise<HttpResult> {
  const url = new URL(path, baseUrl);
  const payload =
    options.body === undefined
      ? undefined
      : typeof options.body === 'string'
        ? options.body
        : JSON.stringify(options.body);
  const headers: Record<string, string> = { ...options.headers };
  if (payload !== undefined) {
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: options.method ?? 'GET', headers, agent: options.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const finishedAt = Date.now();
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            ms: finishedAt - started,
            finishedAt,
            json: <T>() => JSON.parse(text) as T,
          });
        });
      },
    );
    req.setTimeout(options.timeoutMs ?? 30_000, () =>
      req.destroy(new Error(`${options.method ?? 'GET'} ${path}: no answer within the timeout`)),
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** True for an RFC 9457 answer: the media type and the members a client relies on. */
export function isProblem(result: HttpResult, status: number): boolean {
  if (result.status !== status) return false;
  if (!String(result.headers['content-type']).startsWith('application/problem+json')) return false;
  const body = result.json<{ status?: unknown; title?: unknown; detail?: unknown }>();
  return (
    body.status === status && typeof body.title === 'string' && typeof body.detail === 'string'
  );
}
