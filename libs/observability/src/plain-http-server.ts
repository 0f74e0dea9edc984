import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { ShutdownCoordinator, ShutdownPhase } from './shutdown-coordinator';

export interface PlainHttpServerOptions {
  /** how the shutdown report names it */
  name: string;
  port: number;
  host?: string;
  shutdown: ShutdownCoordinator;
  phase: ShutdownPhase;
  handle: (req: IncomingMessage, res: ServerResponse) => void;
}

/**
 * A node:http server for an internal port (probes, metrics): listening before this
 * resolves, closed with its connections in the given shutdown phase.
 */
export async function startPlainHttpServer(options: PlainHttpServerOptions): Promise<Server> {
  const server = createServer(options.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? process.env.HOST ?? '0.0.0.0', () => resolve());
  });
  options.shutdown.register({
    name: options.name,
    phase: options.phase,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
  return server;
}
