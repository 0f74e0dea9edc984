import { HashingEmbedder } from '@quarry/pipeline';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An OpenAI-compatible /v1/embeddings server that answers with the hashing embedder's
 * vectors after a delay, so a test can catch a document in its `embedding` stage.
 */
export interface SlowEmbedder {
  url: string;
  requests: number;
  close(): Promise<void>;
}

export async function startSlowEmbedder(delayMs: number, dimension = 384): Promise<SlowEmbedder> {
  const embedder = new HashingEmbedder({ dimension });
  const state = { requests: 0 };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      state.requests++;
      const { input } = JSON.parse(body) as { input: string[] };
      setTimeout(() => {
        void embedder.embed(input).then((vectors) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              object: 'list',
              model: 'slow-test',
              data: vectors.map((v, index) => ({
                object: 'embedding',
                index,
                embedding: Array.from(v),
              })),
            }),
          );
        });
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return state.requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
