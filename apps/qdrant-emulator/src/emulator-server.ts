import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { registerAliasRoutes } from './alias-routes';
import { CollectionRegistry } from './collection-registry';
import { registerCollectionRoutes } from './collection-routes';
import { Router, sendJson } from './http-router';
import { registerPointRoutes } from './point-routes';
import { registerQueryRoutes } from './query-routes';
import { registerSnapshotRoutes } from './snapshot-routes';
import { registerUnsupportedRoutes } from './unsupported-routes';

export const EMULATED_VERSION = '1.19.0';
/** A stable 40-character commit id that marks this server as the emulator build. */
export const EMULATOR_COMMIT = createHash('sha1')
  .update(`quarry-qdrant-emulator-${EMULATED_VERSION}`)
  .digest('hex');

/** Qdrant's probe answers: `/livez` shares `/healthz`'s text, `/readyz` reports the shards. */
const PROBE_BODIES: Record<string, string | undefined> = {
  '/healthz': 'healthz check passed',
  '/livez': 'healthz check passed',
  '/readyz': 'all shards are ready',
};

export interface EmulatorOptions {
  host: string;
  port: number;
  storage: string;
  compactAfterBytes?: number;
  /** When set, every request except the root and the probes must carry it, as with Qdrant's api_key. */
  apiKey?: string;
  /** A full snapshot (`POST /snapshots`) to install before serving, as Qdrant's --storage-snapshot. */
  storageSnapshot?: string;
}

function authorised(
  headers: Record<string, string | string[] | undefined>,
  apiKey: string,
): boolean {
  const header = headers['api-key'];
  if (header === apiKey) return true;
  const auth = headers.authorization;
  return typeof auth === 'string' && auth === `Bearer ${apiKey}`;
}

export interface RunningEmulator {
  url: string;
  port: number;
  registry: CollectionRegistry;
  close(): Promise<void>;
}

export function buildRouter(registry: CollectionRegistry): Router {
  const router = new Router();
  router.add('GET', '/', () => undefined);
  for (const probe of ['/healthz', '/livez', '/readyz']) router.add('GET', probe, () => undefined);
  // What a Qdrant started without cluster mode answers: the emulator is always one node.
  router.add('GET', '/cluster', () => ({ status: 'disabled' }));
  registerAliasRoutes(router, registry);
  registerCollectionRoutes(router, registry);
  registerSnapshotRoutes(router, registry);
  registerQueryRoutes(router, registry);
  registerPointRoutes(router, registry);
  registerUnsupportedRoutes(router);
  return router;
}

export async function startEmulator(options: EmulatorOptions): Promise<RunningEmulator> {
  const registry = new CollectionRegistry(options.storage, {
    compactAfterBytes: options.compactAfterBytes,
  });
  registry.open();
  if (options.storageSnapshot)
    await registry.recoverFullSnapshot(fs.readFileSync(options.storageSnapshot));
  const router = buildRouter(registry);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/') {
      sendJson(res, 200, {
        title: 'qdrant - vector search engine',
        version: EMULATED_VERSION,
        commit: EMULATOR_COMMIT,
      });
      return;
    }
    const probe = req.method === 'GET' ? PROBE_BODIES[path] : undefined;
    if (probe !== undefined) {
      const text = probe;
      res.writeHead(200, {
        'content-type': 'text/plain; charset=utf-8',
        'content-length': text.length,
      });
      res.end(text);
      return;
    }
    if (options.apiKey && !authorised(req.headers, options.apiKey)) {
      req.resume();
      sendJson(res, 401, {
        status: { error: 'Must provide an API key or an Authorization bearer token' },
        time: 0,
      });
      return;
    }
    void router.handle(req, res);
  });
  server.keepAliveTimeout = 65_000;
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    port,
    registry,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await router.parser.close();
      await registry.settle();
      registry.close();
    },
  };
}
