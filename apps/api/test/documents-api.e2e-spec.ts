import { DataSource } from 'typeorm';
import request from 'supertest';
import { DocumentsStack, startDocumentsStack } from './support/documents-stack';

const MAX = 64 * 1024;
const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from('0000000d49484452000000010000000108060000001f15c489', 'hex'),
  Buffer.alloc(64, 7),
]);

/**
 * Every documents endpoint without a worker: what the api itself answers. Processing to
 * completion is covered in documents-ingest.e2e-spec.ts.
 */
describe('documents api', () => {
  let stack: DocumentsStack;
  let alice: string;
  let bob: string;
  let collectionId: string;
  let bobsCollectionId: string;

  beforeAll(async () => {
    stack = await startDocumentsStack('documents', { overrides: { UPLOAD_MAX_BYTES: MAX } });
    alice = await stack.keyFor('alice');
    bob = await stack.keyFor('bob');
    collectionId = (
      await http().post('/v1/collections').set('Authorization', alice).send({ name: 'a' })
    ).body.id;
    bobsCollectionId = (
      await http().post('/v1/collections').set('Authorization', bob).send({ name: 'b' })
    ).body.id;
  });

  afterAll(async () => {
    await stack?.close();
  });

  const http = () => request(stack.app.getHttpServer());
  const uploadText = (text: string, extra: Record<string, unknown> = {}, key = alice) =>
    http()
      .post('/v1/documents/text')
      .set('Authorization', key)
      .send({ title: 'note', text, collection_id: collectionId, ...extra });
  /** A pending document with `count` chunk rows of its first generation, "chunk 0"… */
  const documentWithChunks = async (text: string, count: number): Promise<string> => {
    const id = (await uploadText(text)).body.document_id as string;
    await stack.app.get(DataSource).query(
      `INSERT INTO chunks (document_id, generation, ordinal, text, token_count, char_start, char_end)
       SELECT $1, 1, n, 'chunk ' || n, 2, 0, 7 FROM generate_series(0, $2 - 1) AS n`,
      [id, count],
    );
    return id;
  };
  const uploadFile = (
    content: Buffer,
    filename: string,
    fields: Record<string, string> = {},
    key = alice,
  ) => {
    let req = http().post('/v1/documents').set('Authorization', key);
    for (const [name, value] of Object.entries({ collection_id: collectionId, ...fields })) {
      req = req.field(name, value);
    }
    return req.attach('file', content, filename);
  };

  describe('upload', () => {
    it('accepts a file with 202, stores it pending and queues its ingest job', async () => {
      const res = await uploadFile(Buffer.from('# Title\n\nSome *markdown* body.\n'), 'notes.md', {
        metadata: JSON.stringify({ source: 'crm', tags: ['a'] }),
      });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({
        status: 'pending',
        duplicate: false,
        status_url: `/v1/documents/${res.body.document_id}/status`,
      });
      expect(res.body.job_id).toBe(`ingest-${res.body.document_id}-1`);
      const queue = stack.app
        .get((await import('@quarry/queue')).JobQueueService)
        .allQueues()
        .find((q) => q.name === 'ingest');
      expect(await queue?.getJob(res.body.job_id)).toBeTruthy();

      const doc = await http()
        .get(`/v1/documents/${res.body.document_id}`)
        .set('Authorization', alice);
      expect(doc.status).toBe(200);
      expect(doc.body).toMatchObject({
        id: res.body.document_id,
        collection_id: collectionId,
        filename: 'notes.md',
        mime_type: 'text/markdown',
        status: 'pending',
        metadata: { source: 'crm', tags: ['a'] },
      });
    });

    it('keeps a Korean filename intact and strips any path from it', async () => {
      const res = await uploadFile(Buffer.from('한글 문서 본문입니다.'), '../../etc/보고서.txt');
      expect(res.status).toBe(202);
      const doc = await http()
        .get(`/v1/documents/${res.body.document_id}`)
        .set('Authorization', alice);
      expect(doc.body.filename).toBe('보고서.txt');
    });

    it('answers 200 with the existing document for the same content, unless force=true', async () => {
      const text = `duplicate check ${Date.now()}`;
      const first = await uploadText(text);
      expect(first.status).toBe(202);
      const again = await uploadText(text);
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ duplicate: true, document_id: first.body.document_id });
      expect(again.body.document.id).toBe(first.body.document_id);
      const forced = await http()
        .post('/v1/documents/text?force=true')
        .set('Authorization', alice)
        .send({ title: 'note', text, collection_id: collectionId });
      expect(forced.status).toBe(202);
      expect(forced.body.document_id).not.toBe(first.body.document_id);

      const file = Buffer.from(`duplicate file ${Date.now()}`);
      expect((await uploadFile(file, 'a.txt')).status).toBe(202);
      const dupFile = await uploadFile(file, 'b.txt');
      expect(dupFile.status).toBe(200);
      expect(dupFile.body.duplicate).toBe(true);
    });

    it('answers 400 for an empty file, empty text and a missing file', async () => {
      const empty = await uploadFile(Buffer.alloc(0), 'empty.txt');
      expect(empty.status).toBe(400);
      expect(empty.headers['content-type']).toContain('application/problem+json');
      expect(empty.body.detail).toMatch(/empty/);
      expect((await uploadText('')).status).toBe(400);
      expect((await uploadText('   \n ')).status).toBe(400);
      const noFile = await http()
        .post('/v1/documents')
        .set('Authorization', alice)
        .field('collection_id', collectionId);
      expect(noFile.status).toBe(400);
    });

    it('answers 400 when metadata is not a JSON object', async () => {
      for (const metadata of ['[1,2]', '"text"', '42', '{not json']) {
        const res = await uploadFile(Buffer.from(`meta ${metadata}`), 'm.txt', { metadata });
        expect(res.status).toBe(400);
        expect(res.body.detail).toContain('metadata');
      }
      const arrayText = await uploadText('metadata array', { metadata: [1, 2] });
      expect(arrayText.status).toBe(400);
      expect(arrayText.body.detail).toContain('metadata');
    });

    it('answers 400 for unknown fields in the JSON body, the multipart form and the query', async () => {
      const body = await uploadText('unknown field', { colour: 'blue' });
      expect(body.status).toBe(400);
      expect(body.body.detail).toContain('colour');
      const form = await uploadFile(Buffer.from('form field'), 'f.txt', { colour: 'blue' });
      expect(form.status).toBe(400);
      const query = await http()
        .post('/v1/documents/text?colour=blue')
        .set('Authorization', alice)
        .send({ title: 't', text: 'query field', collection_id: collectionId });
      expect(query.status).toBe(400);
    });

    it('answers 404 for an unknown or foreign collection and 400 for one that is not a UUID', async () => {
      const unknown = await uploadText('to nowhere', {
        collection_id: '00000000-0000-4000-8000-000000000000',
      });
      expect(unknown.status).toBe(404);
      const foreign = await uploadText('to bob', { collection_id: bobsCollectionId });
      expect(foreign.status).toBe(404);
      const foreignFile = await uploadFile(Buffer.from('to bob'), 'x.txt', {
        collection_id: bobsCollectionId,
      });
      expect(foreignFile.status).toBe(404);
      expect((await uploadText('bad id', { collection_id: 'abc' })).status).toBe(400);
    });

    it('answers 413 over UPLOAD_MAX_BYTES, for files and for text', async () => {
      const justOver = await uploadFile(Buffer.alloc(MAX + 1, 'a'), 'big.txt');
      expect(justOver.status).toBe(413);
      expect(justOver.body.detail).toContain(String(MAX));
      const wayOver = await uploadFile(Buffer.alloc(MAX * 4, 'a'), 'bigger.txt');
      expect(wayOver.status).toBe(413);
      expect(wayOver.headers['content-type']).toContain('application/problem+json');
      const text = await uploadText('가'.repeat(MAX / 3 + 1));
      expect(text.status).toBe(413);
      const hugeJson = await uploadText('a'.repeat(MAX * 3));
      expect(hugeJson.status).toBe(413);
      expect(hugeJson.headers['content-type']).toContain('application/problem+json');
      const atLimit = await uploadFile(Buffer.alloc(MAX, 'b'), 'limit.txt');
      expect(atLimit.status).toBe(202);
    });

    it('answers 415 for an unsupported type such as a PNG', async () => {
      const res = await uploadFile(PNG, 'picture.txt');
      expect(res.status).toBe(415);
      expect(res.headers['content-type']).toContain('application/problem+json');
    });
  });

  describe('read', () => {
    it('lists with filters and cursor pagination, newest first', async () => {
      const { body: col } = await http()
        .post('/v1/collections')
        .set('Authorization', alice)
        .send({ name: 'paging' });
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await uploadText(`paging document number ${i}`, { collection_id: col.id });
        ids.push(res.body.document_id);
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: request.Response = await http()
          .get('/v1/documents')
          .query({ collection_id: col.id, limit: 2, ...(cursor ? { cursor } : {}) })
          .set('Authorization', alice);
        expect(page.status).toBe(200);
        expect(page.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.body.items.map((d: { id: string }) => d.id));
        cursor = page.body.next_cursor;
      } while (cursor);
      expect(seen).toEqual([...ids].reverse());

      const pending = await http()
        .get('/v1/documents')
        .query({ collection_id: col.id, status: 'completed' })
        .set('Authorization', alice);
      expect(pending.body.items).toHaveLength(0);
      const future = await http()
        .get('/v1/documents')
        .query({
          collection_id: col.id,
          created_after: new Date(Date.now() + 60_000).toISOString(),
        })
        .set('Authorization', alice);
      expect(future.body.items).toHaveLength(0);
      const past = await http()
        .get('/v1/documents')
        .query({
          collection_id: col.id,
          created_before: new Date(Date.now() + 60_000).toISOString(),
        })
        .set('Authorization', alice);
      expect(past.body.items).toHaveLength(5);
    });

    it('rejects bad list parameters with 400', async () => {
      for (const query of [
        { limit: 0 },
        { limit: 101 },
        { limit: 'ten' },
        { status: 'lost' },
        { created_after: 'yesterday' },
        { cursor: 'garbage' },
        { colour: 'blue' },
      ]) {
        const res = await http().get('/v1/documents').query(query).set('Authorization', alice);
        expect([res.status, query]).toEqual([400, query]);
      }
    });

    it("shows status, chunks and the original content, and hides another owner's document", async () => {
      const original = Buffer.from('# 제목\n\n본문 "quoted" text\n');
      const up = await uploadFile(original, '회의 "메모".md');
      const id = up.body.document_id as string;

      const status = await http().get(`/v1/documents/${id}/status`).set('Authorization', alice);
      expect(status.status).toBe(200);
      expect(status.body).toMatchObject({
        status: 'pending',
        progress: 0,
        chunks_done: 0,
        chunks_total: 0,
        attempts: 0,
        error: null,
        started_at: null,
        completed_at: null,
      });

      const chunks = await http().get(`/v1/documents/${id}/chunks`).set('Authorization', alice);
      expect(chunks.body).toEqual({ items: [], total: 0, next_cursor: null });

      const content = await http()
        .get(`/v1/documents/${id}/content`)
        .set('Authorization', alice)
        .buffer(true)
        .parse((res, done) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () => done(null, Buffer.concat(parts)));
        });
      expect(content.status).toBe(200);
      expect(content.headers['content-type']).toContain('text/markdown');
      expect(Buffer.compare(content.body as Buffer, original)).toBe(0);
      const disposition = content.headers['content-disposition'] as string;
      expect(disposition).toMatch(/^attachment; filename="[\x20-\x7e]+"; filename\*=UTF-8''/);
      expect(decodeURIComponent(disposition.split("UTF-8''")[1])).toBe('회의 "메모".md');

      for (const path of ['', '/status', '/chunks', '/content', '/events']) {
        const res = await http().get(`/v1/documents/${id}${path}`).set('Authorization', bob);
        expect([path, res.status]).toEqual([path, 404]);
      }
      for (const res of [
        await http().post(`/v1/documents/${id}/reprocess`).set('Authorization', bob),
        await http().delete(`/v1/documents/${id}`).set('Authorization', bob),
      ]) {
        expect(res.status).toBe(404);
      }
      const bobsList = await http().get('/v1/documents').set('Authorization', bob);
      expect(bobsList.body.items.map((d: { id: string }) => d.id)).not.toContain(id);
      const bobDeletes = await http()
        .post('/v1/documents/delete')
        .set('Authorization', bob)
        .send({ ids: [id] });
      expect(bobDeletes.body).toEqual({ count: 0 });
      expect(
        (await http().get(`/v1/documents/${id}`).set('Authorization', alice)).body.status,
      ).toBe('pending');
      expect(
        (await http().get('/v1/documents/not-a-uuid').set('Authorization', alice)).status,
      ).toBe(404);
    });

    it('pages chunks with the cursor it returns, without gaps or duplicates', async () => {
      const id = await documentWithChunks('chunk paging body', 11);
      const seen: number[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
        const page = await http()
          .get(`/v1/documents/${id}/chunks?limit=3${query}`)
          .set('Authorization', alice);
        expect(page.status).toBe(200);
        expect(page.body.total).toBe(11);
        seen.push(...page.body.items.map((c: { ordinal: number }) => c.ordinal));
        cursor = page.body.next_cursor as string | null;
        pages++;
      } while (cursor && pages < 10);
      expect(pages).toBe(4);
      expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

      // offset stays as the documented way to jump; its next page continues by cursor.
      const jumped = await http()
        .get(`/v1/documents/${id}/chunks?limit=2&offset=9`)
        .set('Authorization', alice);
      expect(jumped.body.items.map((c: { ordinal: number }) => c.ordinal)).toEqual([9, 10]);
      expect(jumped.body.next_cursor).toBeNull();
      const middle = await http()
        .get(`/v1/documents/${id}/chunks?limit=2&offset=4`)
        .set('Authorization', alice);
      const after = await http()
        .get(`/v1/documents/${id}/chunks?limit=2&cursor=${middle.body.next_cursor as string}`)
        .set('Authorization', alice);
      expect(after.body.items.map((c: { ordinal: number }) => c.ordinal)).toEqual([6, 7]);

      for (const bad of [
        'cursor=not-a-cursor',
        `cursor=${Buffer.from('2026-01-01|x').toString('base64url')}`,
        `cursor=${middle.body.next_cursor as string}&offset=2`,
        'limit=0',
      ]) {
        const res = await http()
          .get(`/v1/documents/${id}/chunks?${bad}`)
          .set('Authorization', alice);
        expect(res.status).toBe(400);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.body).toMatchObject({ status: 400 });
      }
    });

    it('refuses a chunk cursor from before a reprocess with 409', async () => {
      const id = await documentWithChunks('chunk cursor across a reprocess', 4);
      const first = await http()
        .get(`/v1/documents/${id}/chunks?limit=2`)
        .set('Authorization', alice);
      expect(first.body.next_cursor).toEqual(expect.any(String));
      await stack.app
        .get(DataSource)
        .query('UPDATE documents SET generation = generation + 1 WHERE id = $1', [id]);
      const stale = await http()
        .get(`/v1/documents/${id}/chunks?cursor=${first.body.next_cursor as string}`)
        .set('Authorization', alice);
      expect(stale.status).toBe(409);
      expect(stale.headers['content-type']).toMatch(/^application\/problem\+json/);
    });
  });

  describe('reprocess and delete', () => {
    it('reprocesses with 202 and a new generation, and refuses with 409 while deleting', async () => {
      const up = await uploadText('reprocess me');
      const id = up.body.document_id as string;
      const again = await http().post(`/v1/documents/${id}/reprocess`).set('Authorization', alice);
      expect(again.status).toBe(202);
      expect(again.body).toMatchObject({
        document_id: id,
        status: 'pending',
        generation: 2,
        job_id: `ingest-${id}-2`,
        status_url: `/v1/documents/${id}/status`,
      });

      const deleted = await http().delete(`/v1/documents/${id}`).set('Authorization', alice);
      expect(deleted.status).toBe(202);
      expect(deleted.body).toEqual({
        document_id: id,
        status: 'deleting',
        job_id: `cleanup-${id}-3`,
      });

      const refused = await http()
        .post(`/v1/documents/${id}/reprocess`)
        .set('Authorization', alice);
      expect(refused.status).toBe(409);
      expect(refused.headers['content-type']).toContain('application/problem+json');

      const gone = await http().get(`/v1/documents/${id}/content`).set('Authorization', alice);
      expect(gone.status).toBe(404);
      const listed = await http()
        .get('/v1/documents')
        .query({ collection_id: collectionId })
        .set('Authorization', alice);
      expect(listed.body.items.map((d: { id: string }) => d.id)).not.toContain(id);
      const withDeleted = await http()
        .get('/v1/documents')
        .query({ collection_id: collectionId, include_deleted: true })
        .set('Authorization', alice);
      expect(withDeleted.body.items.map((d: { id: string }) => d.id)).toContain(id);
    });

    it('deletes many by ids or by collection with 202 and a count', async () => {
      const a = (await uploadText('many a')).body.document_id as string;
      const b = (await uploadText('many b')).body.document_id as string;
      const byIds = await http()
        .post('/v1/documents/delete')
        .set('Authorization', alice)
        .send({ ids: [a, b] });
      expect(byIds.status).toBe(202);
      expect(byIds.body).toEqual({ count: 2 });

      const { body: col } = await http()
        .post('/v1/collections')
        .set('Authorization', alice)
        .send({ name: 'bulk' });
      for (const text of ['bulk 1', 'bulk 2', 'bulk 3'])
        await uploadText(text, { collection_id: col.id });
      const byCollection = await http()
        .post('/v1/documents/delete')
        .set('Authorization', alice)
        .send({ collection_id: col.id });
      expect(byCollection.status).toBe(202);
      expect(byCollection.body).toEqual({ count: 3 });

      for (const body of [
        {},
        { ids: [] },
        { ids: ['nope'] },
        { ids: Array.from({ length: 1001 }, () => a) },
        { ids: [a], collection_id: col.id },
      ]) {
        const res = await http()
          .post('/v1/documents/delete')
          .set('Authorization', alice)
          .send(body);
        expect(res.status).toBe(400);
      }
    });
  });

  describe('OpenAPI', () => {
    it('describes every route with bearer auth at /docs-json and serves the UI at /docs', async () => {
      const res = await http().get('/docs-json');
      expect(res.status).toBe(200);
      const paths = Object.keys(res.body.paths as object);
      expect(paths).toEqual(
        expect.arrayContaining([
          '/v1/collections',
          '/v1/collections/{id}',
          '/v1/documents',
          '/v1/documents/text',
          '/v1/documents/delete',
          '/v1/documents/{id}',
          '/v1/documents/{id}/status',
          '/v1/documents/{id}/events',
          '/v1/documents/{id}/chunks',
          '/v1/documents/{id}/content',
          '/v1/documents/{id}/reprocess',
        ]),
      );
      expect(paths.some((p) => p.startsWith('/health') || p.startsWith('/metrics'))).toBe(false);
      expect(res.body.components.securitySchemes.bearer).toMatchObject({ scheme: 'bearer' });
      const upload = res.body.paths['/v1/documents'].post;
      expect(Object.keys(upload.requestBody.content)).toContain('multipart/form-data');
      expect(Object.keys(upload.responses)).toEqual(
        expect.arrayContaining(['202', '400', '401', '404', '413', '415']),
      );
      expect(Object.keys(upload.responses['415'].content)).toEqual(['application/problem+json']);
      expect(res.body.components.schemas.ProblemDetails.required).toEqual([
        'type',
        'title',
        'status',
      ]);
      expect(res.body.components.schemas.UploadTextDto.required).toEqual(
        expect.arrayContaining(['title', 'text', 'collection_id']),
      );
      // Every list pages by the opaque cursor it returns.
      for (const [path, method] of [
        ['/v1/documents', 'get'],
        ['/v1/documents/{id}/chunks', 'get'],
      ] as const) {
        const names = (res.body.paths[path][method].parameters as { name: string }[]).map(
          (p) => p.name,
        );
        expect(names).toContain('cursor');
      }
      expect(res.body.components.schemas.ChunkPageDto.properties.next_cursor.description).toMatch(
        /cursor/,
      );
      const ui = await http().get('/docs');
      expect(ui.status).toBe(200);
      expect(ui.text).toContain('swagger');
    });
  });
});
