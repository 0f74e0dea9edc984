import * as fs from 'node:fs';
import { CollectionRegistry } from './collection-registry';
import { RAW, RequestContext, Router } from './http-router';
import { expectObject, expectString } from './json-value';
import { QdrantError } from './qdrant-error';

/** Extracts the `snapshot` file part of a multipart/form-data upload. */
export function snapshotFromMultipart(ctx: RequestContext): Buffer {
  const type = ctx.req.headers['content-type'] ?? '';
  const boundaryMatch = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(type);
  if (!boundaryMatch) {
    if (ctx.rawBody.length > 0) return ctx.rawBody;
    throw QdrantError.wrongInput('Expected a multipart/form-data upload with a `snapshot` part');
  }
  const boundary = Buffer.from(`--${boundaryMatch[1] ?? boundaryMatch[2]}`);
  const body = ctx.rawBody;
  let start = body.indexOf(boundary);
  while (start >= 0) {
    const headerStart = start + boundary.length + 2;
    const headerEnd = body.indexOf('\r\n\r\n', headerStart);
    if (headerEnd < 0) break;
    const headers = body.toString('utf8', headerStart, headerEnd);
    const next = body.indexOf(boundary, headerEnd + 4);
    if (next < 0) break;
    if (/name="snapshot"/i.test(headers)) return body.subarray(headerEnd + 4, next - 2);
    start = next;
  }
  throw QdrantError.wrongInput('Expected a multipart/form-data upload with a `snapshot` part');
}

async function fetchLocation(location: string): Promise<Buffer> {
  if (location.startsWith('file://')) return fs.promises.readFile(new URL(location));
  if (location.startsWith('http://') || location.startsWith('https://')) {
    const response = await fetch(location);
    if (!response.ok)
      throw QdrantError.wrongInput(
        `Failed to download snapshot from ${location}: ${response.status}`,
      );
    return Buffer.from(await response.arrayBuffer());
  }
  throw QdrantError.wrongInput(`Unsupported snapshot location: ${location}`);
}

export function registerSnapshotRoutes(router: Router, registry: CollectionRegistry): void {
  router.add('POST', '/collections/{name}/snapshots', (ctx) =>
    registry.createSnapshot(ctx.params[0]),
  );
  router.add('GET', '/collections/{name}/snapshots', (ctx) =>
    registry.listSnapshots(ctx.params[0]),
  );
  router.add('GET', '/collections/{name}/snapshots/{snapshot}', async (ctx) => {
    const file = registry.snapshotFile(ctx.params[0], ctx.params[1]);
    const data = await fs.promises.readFile(file);
    ctx.res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': data.length,
      'content-disposition': `attachment; filename="${ctx.params[1]}"`,
    });
    ctx.res.end(data);
    return RAW;
  });
  router.add('DELETE', '/collections/{name}/snapshots/{snapshot}', (ctx) => {
    registry.deleteSnapshot(ctx.params[0], ctx.params[1]);
    return true;
  });
  router.add('POST', '/collections/{name}/snapshots/upload', async (ctx) => {
    const data = snapshotFromMultipart(ctx);
    await registry.recover(ctx.params[0], data, ctx.query.get('checksum') ?? undefined);
    return true;
  });
  router.add('PUT', '/collections/{name}/snapshots/recover', async (ctx) => {
    const body = expectObject(ctx.json(), 'struct SnapshotRecover');
    if (body.location === undefined) throw QdrantError.format('missing field `location`');
    const data = await fetchLocation(expectString(body.location));
    const checksum = typeof body.checksum === 'string' ? body.checksum : undefined;
    await registry.recover(ctx.params[0], data, checksum);
    return true;
  });
}
