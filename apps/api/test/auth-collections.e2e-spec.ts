import request from 'supertest';
import { DocumentsStack, startDocumentsStack } from './support/documents-stack';
import { metricsUrlOf } from './support/api-harness';

describe('auth and collections', () => {
  let stack: DocumentsStack;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    stack = await startDocumentsStack('collections');
    alice = await stack.keyFor('alice');
    bob = await stack.keyFor('bob');
  });

  afterAll(async () => {
    await stack?.close();
  });

  const http = () => request(stack.app.getHttpServer());

  describe('authentication', () => {
    it('answers 401 problem+json with a Bearer challenge without a key', async () => {
      const res = await http().get('/v1/collections');
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(res.body).toMatchObject({ status: 401, title: 'Unauthorized' });
    });

    it('answers 401 for an unknown key and for a revoked one', async () => {
      const bad = await http().get('/v1/collections').set('Authorization', 'Bearer qk_nope');
      expect(bad.status).toBe(401);
      expect(bad.headers['www-authenticate']).toMatch(/^Bearer/);

      const { ApiKeysService } = await import('@quarry/documents');
      const keys = stack.app.get(ApiKeysService);
      const created = await keys.create({ ownerId: 'carol' });
      const ok = await http().get('/v1/collections').set('Authorization', `Bearer ${created.key}`);
      expect(ok.status).toBe(200);
      await keys.revoke(created.id);
      const revoked = await http()
        .get('/v1/collections')
        .set('Authorization', `Bearer ${created.key}`);
      expect(revoked.status).toBe(401);
    });

    it('answers 401 for a basic-auth header on the api', async () => {
      const res = await http().get('/v1/collections').auth('alice', 'secret');
      expect(res.status).toBe(401);
    });

    it('leaves health and the OpenAPI document public, and metrics on their own port', async () => {
      expect((await http().get('/health/live')).status).toBe(200);
      expect((await http().get('/metrics')).status).toBe(404);
      expect((await request(metricsUrlOf(stack.app)).get('/metrics')).status).toBe(200);
      expect((await http().get('/docs-json')).status).toBe(200);
    });
  });

  describe('collections', () => {
    it('creates, lists, reads, renames and deletes a collection', async () => {
      const created = await http()
        .post('/v1/collections')
        .set('Authorization', alice)
        .send({ name: '  Contracts  ', description: 'signed ones' });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ name: 'Contracts', description: 'signed ones' });
      const id = created.body.id as string;

      const list = await http().get('/v1/collections').set('Authorization', alice);
      expect(list.status).toBe(200);
      expect(list.body.items.map((c: { id: string }) => c.id)).toContain(id);

      const read = await http().get(`/v1/collections/${id}`).set('Authorization', alice);
      expect(read.body).toMatchObject({ id, name: 'Contracts' });

      const renamed = await http()
        .patch(`/v1/collections/${id}`)
        .set('Authorization', alice)
        .send({ name: 'Agreements' });
      expect(renamed.status).toBe(200);
      expect(renamed.body).toMatchObject({ id, name: 'Agreements', description: 'signed ones' });

      const removed = await http().delete(`/v1/collections/${id}`).set('Authorization', alice);
      expect(removed.status).toBe(204);
      expect((await http().get(`/v1/collections/${id}`).set('Authorization', alice)).status).toBe(
        404,
      );
    });

    it("hides another owner's collection behind 404 on every verb", async () => {
      const created = await http()
        .post('/v1/collections')
        .set('Authorization', alice)
        .send({ name: 'private' });
      const id = created.body.id as string;
      const asBob = [
        http().get(`/v1/collections/${id}`).set('Authorization', bob),
        http().patch(`/v1/collections/${id}`).set('Authorization', bob).send({ name: 'mine' }),
        http().delete(`/v1/collections/${id}`).set('Authorization', bob),
        http().delete(`/v1/collections/${id}?cascade=true`).set('Authorization', bob),
      ];
      for (const res of await Promise.all(asBob)) {
        expect(res.status).toBe(404);
        expect(res.headers['content-type']).toContain('application/problem+json');
        expect(JSON.stringify(res.body)).not.toContain('private');
      }
      const bobs = await http().get('/v1/collections').set('Authorization', bob);
      expect(bobs.body.items.map((c: { id: string }) => c.id)).not.toContain(id);
      const still = await http().get(`/v1/collections/${id}`).set('Authorization', alice);
      expect(still.body.name).toBe('private');
    });

    it('answers 404 for an id that is not a UUID', async () => {
      const res = await http().get('/v1/collections/not-a-uuid').set('Authorization', alice);
      expect(res.status).toBe(404);
    });

    it('rejects unknown fields, a missing name and a blank name with 400', async () => {
      const unknown = await http()
        .post('/v1/collections')
        .set('Authorization', alice)
        .send({ name: 'x', colour: 'blue' });
      expect(unknown.status).toBe(400);
      expect(unknown.body.detail).toContain('colour');
      const missing = await http().post('/v1/collections').set('Authorization', alice).send({});
      expect(missing.status).toBe(400);
      const blank = await http()
        .post('/v1/collections')
        .set('Authorization', alice)
        .send({ name: '   ' });
      expect(blank.status).toBe(400);
    });

    it('refuses to delete a collection holding documents (409 with the count), cascades on request', async () => {
      const { body: collection } = await http()
        .post('/v1/collections')
        .set('Authorization', alice)
        .send({ name: 'full' });
      for (const text of ['first document body', 'second document body']) {
        const up = await http()
          .post('/v1/documents/text')
          .set('Authorization', alice)
          .send({ title: text, text, collection_id: collection.id });
        expect(up.status).toBe(202);
      }
      const refused = await http()
        .delete(`/v1/collections/${collection.id}`)
        .set('Authorization', alice);
      expect(refused.status).toBe(409);
      expect(refused.body.document_count).toBe(2);
      expect(refused.body.detail).toContain('2 document');

      const cascade = await http()
        .delete(`/v1/collections/${collection.id}?cascade=true`)
        .set('Authorization', alice);
      expect(cascade.status).toBe(202);
      expect(cascade.body).toMatchObject({
        deleted_documents: 2,
        collection_id: collection.id,
        collection_deleted: false,
      });
      const listed = await http()
        .get(`/v1/documents?collection_id=${collection.id}`)
        .set('Authorization', alice);
      expect(listed.body.items).toHaveLength(0);
    });
  });
});
