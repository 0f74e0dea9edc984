import { loadConfig } from '@quarry/config';
import request from 'supertest';
import { DocumentsStack, startDocumentsStack } from './support/documents-stack';

const DEV_KEY = 'dev-key-for-local-use-only';

describe('roles and the development key', () => {
  let stack: DocumentsStack;

  beforeAll(async () => {
    stack = await startDocumentsStack('roles', { overrides: { QUARRY_DEV_API_KEY: DEV_KEY } });
  });

  afterAll(async () => {
    await stack?.close();
  });

  const http = () => request(stack.app.getHttpServer());

  it('lets admin keys read the queue overview and answers 403 problem+json to user keys', async () => {
    const admin = await http()
      .get('/v1/admin/queues')
      .set('Authorization', await stack.keyFor('ops', 'admin'));
    expect(admin.status).toBe(200);
    expect(admin.body.queues.map((q: { name: string }) => q.name).sort()).toEqual([
      'cleanup',
      'ingest',
      'maintenance',
    ]);
    expect(admin.body.queues[0]).toMatchObject({ waiting: expect.any(Number), paused: false });

    const user = await http()
      .get('/v1/admin/queues')
      .set('Authorization', await stack.keyFor('alice'));
    expect(user.status).toBe(403);
    expect(user.headers['content-type']).toContain('application/problem+json');
    expect((await http().get('/v1/admin/queues')).status).toBe(401);
  });

  it('accepts QUARRY_DEV_API_KEY outside production as the admin owner "dev"', async () => {
    const created = await http()
      .post('/v1/collections')
      .set('Authorization', `Bearer ${DEV_KEY}`)
      .send({ name: 'dev things' });
    expect(created.status).toBe(201);
    const mine = await http().get('/v1/collections').set('Authorization', `Bearer ${DEV_KEY}`);
    expect(mine.body.items.map((c: { id: string }) => c.id)).toEqual([created.body.id]);
    const others = await http()
      .get(`/v1/collections/${created.body.id}`)
      .set('Authorization', await stack.keyFor('alice'));
    expect(others.status).toBe(404);
    expect(
      (await http().get('/v1/admin/queues').set('Authorization', `Bearer ${DEV_KEY}`)).status,
    ).toBe(200);
    expect(
      (await http().get('/v1/collections').set('Authorization', `Bearer ${DEV_KEY}x`)).status,
    ).toBe(401);
  });

  it('refuses to start in production with a development key configured', () => {
    expect(() =>
      loadConfig({
        app: 'api',
        env: {},
        overrides: { NODE_ENV: 'production', QUARRY_DEV_API_KEY: DEV_KEY },
      }),
    ).toThrow(/QUARRY_DEV_API_KEY/);
  });
});
