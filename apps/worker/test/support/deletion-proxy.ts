import { createServer, IncomingMessage, request, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A pass-through proxy in front of Qdrant that can catch a cleanup between its two
 * halves: when armed, a delete-by-document (a filter without `must_not`, which only the
 * cleanup sends) is forwarded — so the points are really gone — and its answer is held
 * back. The test then does its damage (kill the worker, cut its database connections)
 * while the cleanup is known to sit between the Qdrant delete and the PostgreSQL one.
 */
export interface DeletionProxy {
  url: string;
  /** hold the next cleanup delete's answer; resolves with its document id once Qdrant did it */
  arm(): Promise<string>;
  /** answer what is held, and pass everything through from now on */
  release(): void;
  close(): Promise<void>;
}

interface DeleteBody {
  filter?: { must?: { key?: string; match?: { value?: unknown } }[]; must_not?: unknown };
}

export async function startDeletionProxy(upstream: string): Promise<DeletionProxy> {
  const target = new URL(upstream);
  let armed: ((documentId: string) => void) | undefined;
  const held: (() => void)[] = [];

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let catchIt: ((documentId: string) => void) | undefined;
      let documentId = '';
      if (armed && req.method === 'POST' && /\/points\/delete/.test(req.url ?? '')) {
        const parsed = JSON.parse(body.toString() || '{}') as DeleteBody;
        const byDocument = parsed.filter?.must?.find((c) => c.key === 'document_id');
        if (byDocument && !parsed.filter?.must_not) {
          catchIt = armed;
          armed = undefined;
          documentId = String(byDocument.match?.value);
        }
      }
      const upstreamReq = request(
        {
          hostname: target.hostname,
          port: target.port,
          path: req.url,
          method: req.method,
          headers: { ...req.headers, host: target.host },
        },
        (upstreamRes) => {
          const parts: Buffer[] = [];
          upstreamRes.on('data', (c: Buffer) => parts.push(c));
          upstreamRes.on('end', () => {
            const send = () => {
              if (res.destroyed) return;
              res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
              res.end(Buffer.concat(parts));
            };
            if (catchIt) {
              held.push(send);
              catchIt(documentId);
            } else send();
          });
        },
      );
      upstreamReq.on('error', () => {
        if (!res.destroyed) res.destroy();
      });
      upstreamReq.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    arm: () => new Promise<string>((resolve) => (armed = resolve)),
    release() {
      armed = undefined;
      for (const send of held.splice(0)) send();
    },
    close: () =>
      new Promise<void>((resolve) => {
        held.splice(0);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
