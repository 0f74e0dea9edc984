import request from 'supertest';
import { emptyComments, whitespaceRun } from '../../../libs/pipeline/test/hostile-corpus';
import { DocumentsStack, startDocumentsStack } from './support/documents-stack';

/*
 * Type sniffing runs on the api's event loop during the upload request. Inputs that sent
 * the old patterns into exponential or quadratic backtracking must now be answered at
 * once, and must not hold up another client's liveness probe.
 */
describe('upload sniffing on hostile text', () => {
  let stack: DocumentsStack;
  let key: string;
  let collectionId: string;

  beforeAll(async () => {
    stack = await startDocumentsStack('sniffing');
    key = await stack.keyFor('mallory');
    collectionId = (
      await http().post('/v1/collections').set('Authorization', key).send({ name: 'traps' })
    ).body.id;
  });

  afterAll(async () => {
    await stack?.close();
  });

  const http = () => request(stack.app.getHttpServer());

  const traps: [string, string][] = [
    ['40 empty comments', emptyComments(40)],
    ['64 KiB of brackets', '['.repeat(64 * 1024)],
    ['a 200 KB whitespace run', whitespaceRun(200_000)],
  ];

  /** Sends `upload` and a liveness probe together; both must come back promptly. */
  async function timed(upload: () => request.Test) {
    const started = performance.now();
    const [res, live] = await Promise.all([
      upload(),
      (async () => {
        const probeStarted = performance.now();
        const probe = await http().get('/health/live');
        return { status: probe.status, ms: performance.now() - probeStarted };
      })(),
    ]);
    return { res, live, ms: performance.now() - started };
  }

  it.each(traps)('answers a multipart upload of %s at once', async (_, text) => {
    const { res, live, ms } = await timed(() =>
      http()
        .post('/v1/documents')
        .set('Authorization', key)
        .field('collection_id', collectionId)
        .attach('file', Buffer.from(text), 'trap.txt'),
    );
    expect(res.status).toBe(202);
    const doc = await http().get(`/v1/documents/${res.body.document_id}`).set('Authorization', key);
    expect(doc.body.mime_type).toBe('text/plain');
    expect(live.status).toBe(200);
    // Seconds for 28 comments, hours for 40 before the fix; this bound only catches a stall.
    expect(ms).toBeLessThan(2_000);
    expect(live.ms).toBeLessThan(2_000);
  });

  // A trailing space keeps the content apart from the file uploads above (no duplicate).
  it.each(traps)('answers POST /v1/documents/text with %s at once', async (_, text) => {
    const { res, live, ms } = await timed(() =>
      http()
        .post('/v1/documents/text')
        .set('Authorization', key)
        .send({ title: 'trap', text: `${text} `, collection_id: collectionId }),
    );
    expect(res.status).toBe(202);
    expect(live.status).toBe(200);
    expect(ms).toBeLessThan(2_000);
    expect(live.ms).toBeLessThan(2_000);
  });
});
