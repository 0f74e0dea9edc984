import { DocumentEventsService, DocumentsService, toEvent } from '@quarry/documents';
import { JobQueueService, QueueName } from '@quarry/queue';
import { TEST_REDIS_URL } from '@quarry/testing';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import request from 'supertest';
import { DocumentEventStreamService } from '../src/documents/document-event-stream.service';
import { DocumentsStack, startDocumentsStack, waitFor } from './support/documents-stack';
import { readEventStream } from './support/event-stream-reader';

/**
 * The event stream's own duties, without a worker: heartbeats, the PostgreSQL fallback
 * when pub/sub says nothing, cleanup when the client leaves, and ending at shutdown.
 */
describe('document event stream', () => {
  let stack: DocumentsStack;
  let alice: string;
  let collectionId: string;
  let streams: DocumentEventStreamService;

  beforeAll(async () => {
    stack = await startDocumentsStack('events');
    alice = await stack.keyFor('alice');
    collectionId = (
      await http().post('/v1/collections').set('Authorization', alice).send({ name: 'e' })
    ).body.id;
    streams = stack.app.get(DocumentEventStreamService);
    streams.timings = { pollMs: 200, heartbeatMs: 100 };
    // Nothing consumes the queue here; keep it paused so no job is left running.
    await stack.app.get(JobQueueService).queue(QueueName.Ingest).pause();
  });

  afterAll(async () => {
    await stack?.close();
  });

  const http = () => request(stack.app.getHttpServer());
  const upload = async (text: string): Promise<string> => {
    const res = await http()
      .post('/v1/documents/text')
      .set('Authorization', alice)
      .send({ title: 'stream', text, collection_id: collectionId });
    expect(res.status).toBe(202);
    return res.body.document_id as string;
  };
  const url = (id: string) => `${stack.baseUrl}/v1/documents/${id}/events`;

  it('sends heartbeats and picks up a change from PostgreSQL that was never published', async () => {
    const id = await upload(`poll fallback ${Date.now()}`);
    const dataSource = stack.app.get(DataSource);
    let changed = false;
    const result = await readEventStream(
      url(id),
      { Authorization: alice },
      {
        timeoutMs: 15_000,
        onEvent: () => {
          if (changed) return;
          changed = true;
          // what a worker would do, minus the publish
          setTimeout(() => {
            void dataSource.query(
              `UPDATE documents SET status = 'failed', stage = 'failed', error = 'the file is damaged'
                WHERE id = $1`,
              [id],
            );
          }, 350);
        },
      },
    );
    expect(result.closedByServer).toBe(true);
    expect(result.comments).toBeGreaterThanOrEqual(1);
    const events = result.events.map(
      (e) => JSON.parse(e.data) as { status: string; error: string },
    );
    expect(events.map((e) => e.status)).toEqual(['pending', 'failed']);
    expect(events[1].error).toBe('the file is damaged');
    await waitFor('the stream to be released', async () =>
      streams.openStreams === 0 ? true : undefined,
    );
  });

  it('releases the subscription and timers when the client goes away', async () => {
    const id = await upload(`client leaves ${Date.now()}`);
    const before = streams.openStreams;
    const result = await readEventStream(url(id), { Authorization: alice }, { timeoutMs: 500 });
    expect(result.closedByServer).toBe(false);
    expect(result.events.map((e) => JSON.parse(e.data).status)).toEqual(['pending']);
    await waitFor('the stream to be released', async () =>
      streams.openStreams === before ? true : undefined,
    );
    expect(streams.openStreams).toBe(before);
  });

  it('serves every stream from one pattern subscription, with no channel of its own', async () => {
    const ids = await Promise.all([1, 2, 3].map((n) => upload(`shared ${n} ${Date.now()}`)));
    const redis = new Redis(TEST_REDIS_URL);
    const readings = ids.map((id) =>
      readEventStream(url(id), { Authorization: alice }, { timeoutMs: 1_500 }),
    );
    try {
      await waitFor('the streams to open', async () =>
        streams.openStreams >= 3 ? true : undefined,
      );
      const prefix = stack.config.redis.prefix;
      // No SUBSCRIBE per document: opening a stream costs no Redis command.
      expect(await redis.pubsub('CHANNELS', `${prefix}:document-events:*`)).toEqual([]);
      expect(Number(await redis.pubsub('NUMPAT'))).toBeGreaterThanOrEqual(1);
      // …and the events still arrive.
      await stack.app.get(DocumentEventsService).publish({
        ...toEvent(await stack.app.get(DocumentsService).get('alice', ids[0])),
        status: 'failed',
      });
      const first = await readings[0];
      expect(first.events.map((e) => JSON.parse(e.data).status)).toEqual(['pending', 'failed']);
    } finally {
      await Promise.all(readings);
      redis.disconnect();
    }
  });

  it('takes JSON text uploads far over the usual 100 kB body limit, up to UPLOAD_MAX_BYTES', async () => {
    const text = '긴 문서의 한 줄입니다. A long line of a long document.\n'.repeat(20_000);
    expect(Buffer.byteLength(text)).toBeGreaterThan(1_000_000);
    const res = await http()
      .post('/v1/documents/text')
      .set('Authorization', alice)
      .send({ title: 'long', text, collection_id: collectionId });
    expect(res.status).toBe(202);
    const doc = await http()
      .get(`/v1/documents/${res.body.document_id}`)
      .set('Authorization', alice);
    expect(doc.body.size_bytes).toBe(Buffer.byteLength(text));
  });

  it('ends open streams when the api shuts down instead of holding the drain', async () => {
    const id = await upload(`shutdown ${Date.now()}`);
    let opened!: () => void;
    const firstEvent = new Promise<void>((resolve) => (opened = resolve));
    const reading = readEventStream(
      url(id),
      { Authorization: alice },
      { timeoutMs: 20_000, onEvent: () => opened() },
    );
    await firstEvent;
    expect(streams.openStreams).toBe(1);
    await stack.app.close();
    const result = await reading;
    expect(result.closedByServer).toBe(true);
    expect(streams.openStreams).toBe(0);
  });
});
