import type { SearchResponse } from '@quarry/documents';
import { TINY_MODEL_WORDS, writeTinyEmbeddingModel } from '@quarry/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { DocumentsStack, startDocumentsStack, waitFor } from './support/documents-stack';
import { compiled, NodeProcess } from './support/node-process';

const DOCUMENTS: Record<string, string> = {
  volcano:
    'Iceland sits on a ridge where magma rises. A volcano eruption there sends lava and ash ' +
    'into the sky, and the ash cloud once closed the airspace of Europe.',
  bread:
    'A sourdough starter is flour and water with wild yeast. Bake the loaf in a hot oven ' +
    'after the dough has risen; salt makes the bread taste better.',
  chess:
    'In chess the king must be protected. The queen is the strongest piece on the board and ' +
    'each move can win or lose the game.',
  rocket:
    'A rocket engine burns fuel to launch a satellite into orbit around the moon or mars; ' +
    'space travel begins at the launch station.',
};

/**
 * EMBEDDING_PROVIDER=local end to end: the api and the worker each load a tiny model
 * the test writes (e5-style name, so queries and passages get their prefixes), uploads
 * are chunked and embedded in the worker's threads, and search finds them through the
 * api's own threads, over real PostgreSQL, Redis and the Qdrant emulator.
 */
describe('local embedding model through api and worker', () => {
  let root: string;
  let stack: DocumentsStack;
  let alice: string;
  const ids = new Map<string, string>();
  const http = () => request(stack.app.getHttpServer());

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'quarry-local-e2e-'));
    // Every word of the corpus in the vocabulary, so no text is mostly shared word pieces.
    const corpus =
      Object.values(DOCUMENTS)
        .join(' ')
        .toLowerCase()
        .match(/[a-z]+/g) ?? [];
    const model = writeTinyEmbeddingModel(join(root, 'tiny-e5'), {
      hidden: 256,
      layers: 1,
      words: [...TINY_MODEL_WORDS, ...corpus],
    });
    stack = await startDocumentsStack('local_embed', {
      worker: true,
      overrides: {
        EMBEDDING_PROVIDER: 'local',
        EMBEDDING_MODEL_PATH: model.dir,
        EMBEDDING_DIM: model.dimension,
        EMBEDDING_THREADS: 1,
        EMBEDDING_BATCH_SIZE: 4,
      },
    });
    alice = await stack.keyFor('alice');
    const collectionId = (
      await http().post('/v1/collections').set('Authorization', alice).send({ name: 'topics' })
    ).body.id as string;
    for (const [name, text] of Object.entries(DOCUMENTS)) {
      const res = await http()
        .post('/v1/documents')
        .set('Authorization', alice)
        .field('collection_id', collectionId)
        .attach('file', Buffer.from(text), `${name}.txt`);
      expect(res.status).toBe(202);
      ids.set(name, res.body.document_id);
    }
    for (const id of ids.values()) {
      await waitFor(
        `document ${id} completed`,
        async () => {
          const s = (await http().get(`/v1/documents/${id}/status`).set('Authorization', alice))
            .body as { status: string; error: string | null };
          if (s.status === 'failed') throw new Error(`ingest failed: ${s.error}`);
          return s.status === 'completed' ? s : undefined;
        },
        60_000,
      );
    }
  });

  afterAll(async () => {
    await stack?.close();
    rmSync(root, { recursive: true, force: true });
  });

  const search = async (query: string, mode: string): Promise<SearchResponse> => {
    const res = await http()
      .post('/v1/search')
      .set('Authorization', alice)
      .send({ query, mode, limit: 4 });
    expect(res.status).toBe(200);
    return res.body as SearchResponse;
  };

  it('records the local model on every document', async () => {
    for (const id of ids.values()) {
      const res = await http().get(`/v1/documents/${id}`).set('Authorization', alice);
      expect(res.body.embedding_model).toBe('tiny-e5');
    }
  });

  it.each([
    ['ash of a volcano eruption', 'volcano'],
    ['bake sourdough bread', 'bread'],
    ['chess queen and king', 'chess'],
    ['launch a satellite into orbit', 'rocket'],
  ])('semantic search for %j finds the %s document first', async (query, expected) => {
    const body = await search(query, 'semantic');
    expect(body.results[0]?.document.id).toBe(ids.get(expected));
  });

  it('fuses with keyword search in hybrid mode', async () => {
    const body = await search('volcano eruption ash', 'hybrid');
    expect(body.results[0]?.document.id).toBe(ids.get('volcano'));
  });

  it.each([
    [
      'worker',
      'EMBEDDING_DIM does not match the model',
      384,
      /produces 32-dimensional vectors but EMBEDDING_DIM is 384: set EMBEDDING_DIM=32/,
    ],
    [
      'api',
      'the model folder has no ONNX file',
      32,
      /has no onnx\/model\.onnx: download the model's ONNX export/,
    ],
  ])('the compiled %s refuses to start when %s, in one line', async (app, _why, dim, expects) => {
    const model = writeTinyEmbeddingModel(join(root, `refused-${app}`), { hidden: 32 });
    if (app === 'api') rmSync(join(model.dir, 'onnx'), { recursive: true });
    const proc = new NodeProcess(compiled(`apps/${app}/src/main.js`), [], {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      PORT: '1',
      WORKER_HTTP_PORT: '1',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
      REDIS_URL: 'redis://127.0.0.1:1',
      EMBEDDING_PROVIDER: 'local',
      EMBEDDING_MODEL_PATH: model.dir,
      EMBEDDING_DIM: String(dim),
    });
    try {
      const exit = await proc.waitForExit(15_000);
      expect({ code: exit?.code, stdout: proc.stdout }).toEqual({ code: 78, stdout: '' });
      const lines = proc.stderr.split('\n').filter((l) => l.trim() !== '');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^quarry-${app} cannot start: `));
      expect(lines[0]).toMatch(expects);
    } finally {
      await proc.stop();
    }
  });
});
