import { createHash } from 'node:crypto';
import { createWriteStream, openAsBlob } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

/**
 * Snapshot files move over plain fetch: the official client reads every answer as text
 * (which corrupts a binary download) and cannot send multipart bodies. Errors are shaped
 * like the client's own HTTP errors so that the gateway classifies both the same way.
 */
export class SnapshotHttpError extends Error {
  constructor(
    readonly status: number,
    readonly statusText: string,
    readonly data: unknown,
    readonly headers: Headers,
  ) {
    super(`HTTP ${status} ${statusText}`);
    this.name = 'SnapshotHttpError';
  }
}

export interface SnapshotEndpoint {
  url: string;
  apiKey?: string;
  collection: string;
  timeoutMs: number;
}

export interface DownloadedSnapshot {
  path: string;
  bytes: number;
  sha256: string;
}

function endpoint(target: SnapshotEndpoint, suffix: string): string {
  const base = target.url.replace(/(?<!\/)\/+$/, '');
  return `${base}/collections/${encodeURIComponent(target.collection)}/snapshots${suffix}`;
}

function headers(target: SnapshotEndpoint): Record<string, string> {
  return target.apiKey ? { 'api-key': target.apiKey } : {};
}

async function failure(response: Response): Promise<SnapshotHttpError> {
  const text = await response.text().catch(() => '');
  let data: unknown = text;
  try {
    data = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return new SnapshotHttpError(response.status, response.statusText, data, response.headers);
}

/** Streams a snapshot to `destination` (via a temporary file, renamed when complete). */
export async function downloadSnapshot(
  target: SnapshotEndpoint,
  name: string,
  destination: string,
): Promise<DownloadedSnapshot> {
  const response = await fetch(endpoint(target, `/${encodeURIComponent(name)}`), {
    headers: headers(target),
    signal: AbortSignal.timeout(target.timeoutMs),
  });
  if (!response.ok || !response.body) throw await failure(response);
  const hash = createHash('sha256');
  let bytes = 0;
  const partial = `${destination}.partial`;
  try {
    await pipeline(
      Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
      new Transform({
        transform(chunk: Buffer, _encoding, done) {
          hash.update(chunk);
          bytes += chunk.length;
          done(null, chunk);
        },
      }),
      createWriteStream(partial),
    );
    await rename(partial, destination);
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
  return { path: destination, bytes, sha256: hash.digest('hex') };
}

/**
 * Uploads a snapshot file and recovers the collection from it (replacing its contents,
 * or creating it). The snapshot's data wins over what the node holds.
 */
export async function uploadSnapshot(
  target: SnapshotEndpoint,
  file: string,
  { checksum }: { checksum?: string } = {},
): Promise<boolean> {
  const form = new FormData();
  form.append('snapshot', await openAsBlob(file), basename(file));
  const query = new URLSearchParams({ wait: 'true', priority: 'snapshot' });
  if (checksum) query.set('checksum', checksum);
  const response = await fetch(endpoint(target, `/upload?${query}`), {
    method: 'POST',
    headers: headers(target),
    body: form,
    signal: AbortSignal.timeout(target.timeoutMs),
  });
  if (!response.ok) throw await failure(response);
  const body = (await response.json()) as { result?: unknown };
  return body.result === true;
}
