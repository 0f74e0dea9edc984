import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CollectionRegistry } from './collection-registry';
import { RAW, RequestContext, Router, sendJson } from './http-router';
import { expectObject, expectString } from './json-value';
import { QdrantError } from './qdrant-error';
import { parseWait } from './request-parsing';

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

async function fetchLocation(registry: CollectionRegistry, location: string): Promise<Buffer> {
  if (location.startsWith('file://')) {
    let file: string;
    try {
      file = fileURLToPath(location);
    } catch {
      throw QdrantError.badRequest(`Invalid snapshot location: ${location}`);
    }
    // Qdrant reads local snapshots only from its own snapshots directory.
    if (!registry.insideSnapshots(file)) {
      throw QdrantError.badRequest(
        `Snapshot file ${JSON.stringify(file)} is outside of the snapshots directory`,
      );
    }
    return fs.promises.readFile(file);
  }
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

/**
 * Runs a snapshot operation: with `wait=false` (Qdrant's default is true) it answers 202
 * `accepted` at once and finishes in the background, as Qdrant does.
 */
async function maybeWait<T>(ctx: RequestContext, work: () => Promise<T>): Promise<T | typeof RAW> {
  if (parseWait(ctx.query, true)) return work();
  sendJson(ctx.res, 202, { status: 'accepted', time: ctx.elapsed() });
  void work().catch(() => undefined);
  return RAW;
}

async function sendSnapshot(ctx: RequestContext, file: string, name: string): Promise<typeof RAW> {
  const data = await fs.promises.readFile(file);
  ctx.res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': data.length,
    'content-disposition': `attachment; filename="${name}"`,
  });
  ctx.res.end(data);
  return RAW;
}

export function registerSnapshotRoutes(router: Router, registry: CollectionRegistry): void {
  router.add('POST', '/collections/{name}/snapshots', (ctx) => {
    registry.resolve(ctx.params[0]);
    return maybeWait(ctx, () => registry.createSnapshot(ctx.params[0]));
  });
  router.add('GET', '/collections/{name}/snapshots', (ctx) =>
    registry.listSnapshots(ctx.params[0]),
  );
  router.add('GET', '/collections/{name}/snapshots/{snapshot}', (ctx) =>
    sendSnapshot(ctx, registry.snapshotFile(ctx.params[0], ctx.params[1]), ctx.params[1]),
  );
  router.add('DELETE', '/collections/{name}/snapshots/{snapshot}', (ctx) => {
    const file = registry.snapshotFile(ctx.params[0], ctx.params[1]);
    return maybeWait(ctx, async () => {
      registry.deleteSnapshotFile(file);
      return true;
    });
  });
  router.add('POST', '/collections/{name}/snapshots/upload', (ctx) => {
    const data = snapshotFromMultipart(ctx);
    return maybeWait(ctx, async () => {
      await registry.recover(ctx.params[0], data, ctx.query.get('checksum') ?? undefined);
      return true;
    });
  });
  router.add('PUT', '/collections/{name}/snapshots/recover', async (ctx) => {
    const body = expectObject(ctx.json(), 'struct SnapshotRecover');
    if (body.location === undefined) throw QdrantError.format('missing field `location`');
    const location = expectString(body.location);
    const checksum = typeof body.checksum === 'string' ? body.checksum : undefined;
    // A refused location is refused at once, whether or not the request waits.
    const data = await fetchLocation(registry, location);
    return maybeWait(ctx, async () => {
      await registry.recover(ctx.params[0], data, checksum);
      return true;
    });
  });

  router.add('POST', '/snapshots', (ctx) => maybeWait(ctx, () => registry.createFullSnapshot()));
  router.add('GET', '/snapshots', () => registry.listFullSnapshots());
  router.add('GET', '/snapshots/{snapshot}', (ctx) =>
    sendSnapshot(ctx, registry.fullSnapshotFile(ctx.params[0]), ctx.params[0]),
  );
  router.add('DELETE', '/snapshots/{snapshot}', (ctx) => {
    const file = registry.fullSnapshotFile(ctx.params[0]);
    return maybeWait(ctx, async () => {
      registry.deleteSnapshotFile(file);
      return true;
    });
  });
}
