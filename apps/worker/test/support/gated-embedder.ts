import { HashingEmbedder } from '@quarry/pipeline';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An OpenAI-compatible `/v1/embeddings` server whose answers can be held back, so a test
 * can keep a document in its `embedding` stage for as long as it needs (with the points
 * of earlier batches already written), then let it go on.
 */
export interface GatedEmbedder {
  url: string;
  /** requests received so far */
  readonly requests: number;
  /** hold every answer from now on (the first `allow` requests still pass) */
  hold(allow?: number): void;
  /** answer everything held, and everything from now on */
  release(): void;
  /** resolves once `n` requests have arrived in total */
  waitForRequests(n: number): Promise<void>;
  close(): Promise<void>;
}

export async function startGatedEmbedder(dimension = 384): Promise<GatedEmbedder> {
  const embedder = new HashingEmbedder({ dimension });
  let requests = 0;
  let holding = false;
  let allowance = 0;
  const held: (() => void)[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];

  const answer = (res: ServerResponse, input: string[]) => {
    void embedder.embed(input).then((vectors) => {
      if (res.destroyed) return;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          object: 'list',
          model: 'gated-test',
          data: vectors.map((v, index) => ({
            object: 'embedding',
            index,
            embedding: Array.from(v),
          })),
        }),
      );
    });
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      requests++;
      for (const w of waiters.filter((w) => requests >= w.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
      const { input } = JSON.parse(body) as { input: string[] | string };
      const texts = Array.isArray(input) ? input : [input];
      if (holding && allowance <= 0) held.push(() => answer(res, texts));
      else {
        allowance--;
        answer(res, texts);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    get requests() {
      return requests;
    },
    hold(allow = 0) {
      holding = true;
      allowance = allow;
    },
    release() {
      holding = false;
      for (const go of held.splice(0)) go();
    },
    waitForRequests(n) {
      if (requests >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    close: () =>
      new Promise<void>((resolve) => {
        holding = false;
        held.splice(0);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
