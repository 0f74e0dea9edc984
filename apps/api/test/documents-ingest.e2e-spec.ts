import { JobQueueService, QueueName } from '@quarry/queue';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { DocumentsStack, startDocumentsStack, waitFor } from './support/documents-stack';
import { readEventStream } from './support/event-stream-reader';

const FIXTURES = join(__dirname, '../../../libs/pipeline/test/fixtures');

interface Sample {
  file: string;
  mime: string;
  /** phrases the chunks must hold; with a page, the chunk holding it must be on that page */
  phrases: { text: string; page?: number }[];
  absent?: string[];
}

const SAMPLES: Sample[] = [
  {
    file: 'sample-en.pdf',
    mime: 'application/pdf',
    phrases: [
      { text: 'Mid-Atlantic Ridge', page: 1 },
      { text: 'ash cloud that drifted over Europe', page: 2 },
      { text: 'Blue Lagoon', page: 3 },
    ],
  },
  {
    file: 'sample-ko.pdf',
    mime: 'application/pdf',
    phrases: [
      { text: '한라산', page: 1 },
      { text: '해녀', page: 2 },
      { text: '돌하르방은 현무암을 깎아 만든 석상으로', page: 3 },
    ],
  },
  {
    file: 'sample-en.docx',
    mime: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    phrases: [
      { text: 'preheated Dutch oven at 250 degrees Celsius' },
      { text: 'Mixing and folding' },
    ],
  },
  {
    file: 'sample-ko.docx',
    mime: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    phrases: [
      { text: '고춧가루, 다진 마늘, 생강, 멸치액젓, 새우젓을 섞고' },
      { text: '양념 만들기' },
    ],
  },
  {
    file: 'sample-en.html',
    mime: 'text/html',
    phrases: [{ text: 'It has one queen, a few hundred male drones' }],
    absent: ['tracking-script-text', 'Sidebar advertisement', 'Copyright footer'],
  },
  {
    file: 'sample-ko.html',
    mime: 'text/html',
    phrases: [{ text: '패키지 관리' }],
    absent: ['스크립트 내용', '소식 메뉴', '광고'],
  },
  {
    file: 'sample-en.md',
    mime: 'text/markdown',
    phrases: [{ text: 'Ownership and Borrowing in Rust' }, { text: 'garbage collector' }],
  },
  {
    file: 'sample-ko.md',
    mime: 'text/markdown',
    phrases: [{ text: '훈민정음' }, { text: '세종대왕이 창제하고' }],
  },
  {
    file: 'sample-en.txt',
    mime: 'text/plain',
    phrases: [{ text: 'draisine' }, { text: 'penny-farthing' }],
  },
  {
    file: 'sample-ko.txt',
    mime: 'text/plain',
    phrases: [{ text: '서울 지하철 1호선은 1974년 8월 15일에' }],
  },
  {
    file: 'sample-ko-euckr.txt',
    mime: 'text/plain',
    phrases: [{ text: '한국의 전통 차 문화' }, { text: '청자 찻잔' }],
  },
  {
    file: 'sample-ko-utf16le.txt',
    mime: 'text/plain',
    phrases: [{ text: '태양계의 행성' }, { text: '천왕성, 해왕성' }],
  },
];

interface ChunkBody {
  text: string;
  page: number | null;
  ordinal: number;
}

const squash = (s: string) => s.replace(/\s+/g, ' ');

/** Uploads through the api and processes with the real worker (in-process). */
describe('documents through api and worker', () => {
  let stack: DocumentsStack;
  let alice: string;
  let collectionId: string;
  const ids = new Map<string, string>();

  beforeAll(async () => {
    // Chunks smaller than a sample PDF page, so each page starts chunks of its own.
    stack = await startDocumentsStack('ingest', {
      worker: true,
      overrides: { CHUNK_SIZE: 150, CHUNK_OVERLAP: 30 },
    });
    alice = await stack.keyFor('alice');
    collectionId = (
      await http().post('/v1/collections').set('Authorization', alice).send({ name: 'samples' })
    ).body.id;
    for (const sample of SAMPLES) {
      const res = await http()
        .post('/v1/documents')
        .set('Authorization', alice)
        .field('collection_id', collectionId)
        .field('metadata', JSON.stringify({ fixture: sample.file }))
        .attach('file', readFileSync(join(FIXTURES, sample.file)), sample.file);
      expect([sample.file, res.status]).toEqual([sample.file, 202]);
      ids.set(sample.file, res.body.document_id);
    }
  });

  afterAll(async () => {
    await stack?.close();
  });

  const http = () => request(stack.app.getHttpServer());
  const statusOf = async (id: string) =>
    (await http().get(`/v1/documents/${id}/status`).set('Authorization', alice)).body as {
      status: string;
      error: string | null;
    };
  const waitForStatus = (id: string, wanted: string[]) =>
    waitFor(
      `document ${id} to reach ${wanted.join('/')}`,
      async () => {
        const current = await statusOf(id);
        return wanted.includes(current.status) ? current : undefined;
      },
      60_000,
    );
  const allChunks = async (id: string): Promise<ChunkBody[]> => {
    const res = await http()
      .get(`/v1/documents/${id}/chunks?limit=500`)
      .set('Authorization', alice);
    expect(res.status).toBe(200);
    return res.body.items as ChunkBody[];
  };

  it.each(SAMPLES)('$file completes and its chunks hold its text', async (sample) => {
    const id = ids.get(sample.file) ?? '';
    const final = await waitForStatus(id, ['completed', 'failed']);
    expect([sample.file, final.status, final.error]).toEqual([sample.file, 'completed', null]);

    const doc = await http().get(`/v1/documents/${id}`).set('Authorization', alice);
    expect(doc.body).toMatchObject({ mime_type: sample.mime, progress: 100 });
    const chunks = await allChunks(id);
    expect(chunks.length).toBeGreaterThan(0);
    expect(doc.body.chunk_count).toBe(chunks.length);
    expect(chunks.map((c) => c.ordinal)).toEqual(chunks.map((_, i) => i));
    const joined = squash(chunks.map((c) => c.text).join(' '));
    for (const phrase of sample.phrases) {
      expect(joined).toContain(phrase.text);
      if (phrase.page !== undefined) {
        const holders = chunks.filter((c) => squash(c.text).includes(phrase.text));
        expect([phrase.text, holders.map((c) => c.page)]).toEqual([
          phrase.text,
          expect.arrayContaining([phrase.page]),
        ]);
      }
    }
    if (sample.mime === 'application/pdf') {
      const pages = chunks.map((c) => c.page ?? 0);
      expect(new Set(pages)).toEqual(new Set([1, 2, 3]));
      expect(pages).toEqual([...pages].sort((a, b) => a - b));
    }
    for (const text of sample.absent ?? []) expect(joined).not.toContain(text);
    if (sample.mime !== 'application/pdf') {
      expect(chunks.every((c) => c.page === null)).toBe(true);
    }
  });

  it('fails a corrupt PDF at once with a message a person understands', async () => {
    const res = await http()
      .post('/v1/documents')
      .set('Authorization', alice)
      .field('collection_id', collectionId)
      .attach('file', readFileSync(join(FIXTURES, 'corrupt.pdf')), 'corrupt.pdf');
    expect(res.status).toBe(202);
    const final = await waitForStatus(res.body.document_id, ['completed', 'failed']);
    expect(final.status).toBe('failed');
    expect(final.error).toMatch(/damaged or is not a valid PDF/);
  });

  it('streams the events of an upload in order until completed, then closes', async () => {
    const ingest = stack.app.get(JobQueueService).queue(QueueName.Ingest);
    // Hold the queue so the stream is open before the worker starts.
    await ingest.pause();
    let id = '';
    try {
      const up = await http()
        .post('/v1/documents/text')
        .set('Authorization', alice)
        .send({
          title: 'streamed',
          text: readFileSync(join(FIXTURES, 'sample-en.md'), 'utf8') + `\n\nrun ${Date.now()}`,
          collection_id: collectionId,
        });
      expect(up.status).toBe(202);
      id = up.body.document_id;
    } catch (err) {
      await ingest.resume();
      throw err;
    }
    let resumed = false;
    const result = await readEventStream(
      `${stack.baseUrl}/v1/documents/${id}/events`,
      { Authorization: alice },
      {
        timeoutMs: 60_000,
        onEvent: () => {
          if (!resumed) {
            resumed = true;
            void ingest.resume();
          }
        },
      },
    );
    if (!resumed) await ingest.resume();

    expect(result.status).toBe(200);
    expect(result.contentType).toContain('text/event-stream');
    expect(result.closedByServer).toBe(true);
    const events = result.events.map((e) => JSON.parse(e.data) as Record<string, unknown>);
    expect(events.length).toBeGreaterThanOrEqual(3);
    expect(events.every((e) => e.document_id === id)).toBe(true);
    expect(result.events.map((e) => Number(e.id))).toEqual(events.map((_, i) => i + 1));
    const statuses = events.map((e) => e.status);
    expect(statuses[0]).toBe('pending');
    expect(statuses[statuses.length - 1]).toBe('completed');
    expect(statuses).toContain('processing');
    // pending, then processing, then completed: never backwards
    const rank: Record<string, number> = { pending: 0, processing: 1, completed: 2 };
    const ranks = statuses.map((s) => rank[String(s)]);
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    const last = events[events.length - 1];
    expect(last).toMatchObject({ progress: 100, stage: 'completed' });
    const stages = events.map((e) => e.stage).filter((s) => s !== null);
    expect(stages.length).toBeGreaterThanOrEqual(2);

    // A client that connects late gets the current (terminal) state and the stream closes.
    const late = await readEventStream(
      `${stack.baseUrl}/v1/documents/${id}/events`,
      { Authorization: alice },
      { timeoutMs: 10_000 },
    );
    expect(late.closedByServer).toBe(true);
    expect(late.events.map((e) => JSON.parse(e.data).status)).toEqual(['completed']);
  });

  it('answers 401 and 404 on the event stream before sending any event', async () => {
    const anonymous = await readEventStream(
      `${stack.baseUrl}/v1/documents/${ids.get('sample-en.txt')}/events`,
      {},
      { timeoutMs: 5_000 },
    );
    expect(anonymous.status).toBe(401);
    expect(anonymous.events).toHaveLength(0);
    const bob = await stack.keyFor('bob');
    const foreign = await readEventStream(
      `${stack.baseUrl}/v1/documents/${ids.get('sample-en.txt')}/events`,
      { Authorization: bob },
      { timeoutMs: 5_000 },
    );
    expect(foreign.status).toBe(404);
    expect(foreign.contentType).toContain('application/problem+json');
  });

  it('reprocesses a completed document into a new generation with the same text', async () => {
    const id = ids.get('sample-en.txt') ?? '';
    await waitForStatus(id, ['completed']);
    const before = await allChunks(id);
    const res = await http().post(`/v1/documents/${id}/reprocess`).set('Authorization', alice);
    expect(res.status).toBe(202);
    expect(res.body.generation).toBe(2);
    await waitForStatus(id, ['completed']);
    const doc = await http().get(`/v1/documents/${id}`).set('Authorization', alice);
    expect(doc.body.generation).toBe(2);
    const after = await allChunks(id);
    expect(after.map((c) => c.text)).toEqual(before.map((c) => c.text));
  });

  it('deletes documents in the background, then lets the emptied collection go', async () => {
    const { body: col } = await http()
      .post('/v1/collections')
      .set('Authorization', alice)
      .send({ name: 'to remove' });
    const up = await http()
      .post('/v1/documents/text')
      .set('Authorization', alice)
      .send({ title: 'gone soon', text: 'a short life for this text', collection_id: col.id });
    await waitForStatus(up.body.document_id, ['completed']);

    const cascade = await http()
      .delete(`/v1/collections/${col.id}?cascade=true`)
      .set('Authorization', alice);
    expect(cascade.status).toBe(202);
    expect(cascade.body.deleted_documents).toBe(1);
    const stream = await readEventStream(
      `${stack.baseUrl}/v1/documents/${up.body.document_id}/events`,
      { Authorization: alice },
      { timeoutMs: 30_000 },
    );
    expect(stream.closedByServer).toBe(true);
    expect(JSON.parse(stream.events[stream.events.length - 1].data).status).toBe('deleted');
    await waitForStatus(up.body.document_id, ['deleted']);
    const removed = await http().delete(`/v1/collections/${col.id}`).set('Authorization', alice);
    expect(removed.status).toBe(204);
    expect((await http().get(`/v1/collections/${col.id}`).set('Authorization', alice)).status).toBe(
      404,
    );
  });
});
