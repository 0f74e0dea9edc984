import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';

export interface FakeModelHub {
  endpoint: string;
  /** every path asked for, in order */
  requests: string[];
  /** a file served with its last byte flipped, to prove checksums are checked */
  corrupt?: string;
  close(): Promise<void>;
}

/**
 * A stand-in for the Hugging Face hub serving one repository from a folder, with the
 * hub's layout: `/api/models/{id}/revision/main?blobs=true` lists the files (sha256 and
 * size for LFS files, `.onnx` and `.bin`; size and git blob sha1 for the others) and
 * `/{id}/resolve/main/{path}` serves them.
 */
export async function startFakeModelHub(id: string, dir: string): Promise<FakeModelHub> {
  const files = walk(dir).map((f) => relative(dir, f));
  const siblings = files.map((path) => {
    const bytes = readFileSync(join(dir, path));
    return /\.(?:onnx|bin)$/.test(path)
      ? {
          rfilename: path,
          lfs: { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length },
        }
      : {
          rfilename: path,
          size: bytes.length,
          blobId: createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex'),
        };
  });
  const hub: Omit<FakeModelHub, 'endpoint' | 'close'> = { requests: [] };
  const server = createServer((req, res) => {
    const url = req.url ?? '';
    hub.requests.push(url);
    if (url === `/api/models/${id}/revision/main?blobs=true`) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ id, siblings }));
    }
    const prefix = `/${id}/resolve/main/`;
    const path = url.startsWith(prefix) ? url.slice(prefix.length) : undefined;
    if (!path || !files.includes(path)) return res.writeHead(404).end();
    let bytes = readFileSync(join(dir, path));
    if (path === hub.corrupt) {
      bytes = Buffer.from(bytes);
      bytes[bytes.length - 1] ^= 1;
    }
    res.writeHead(200, { 'content-length': bytes.length });
    res.end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(hub, {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}
