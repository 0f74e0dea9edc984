import request from 'supertest';
import { DocumentsStack, startDocumentsStack } from './support/documents-stack';

const USER = 'ops';
const PASSWORD = 'correct horse battery';

describe('queue dashboard at /admin/queues', () => {
  let stack: DocumentsStack;
  let adminKey: string;
  let userKey: string;

  beforeAll(async () => {
    stack = await startDocumentsStack('dashboard', {
      overrides: { BULL_BOARD_USER: USER, BULL_BOARD_PASSWORD: PASSWORD },
    });
    adminKey = await stack.keyFor('ops-team', 'admin');
    userKey = await stack.keyFor('alice', 'user');
  });

  afterAll(async () => {
    await stack?.close();
  });

  const http = () => request(stack.app.getHttpServer());
  const paths = [
    '/admin/queues',
    '/admin/queues/',
    '/admin/queues/api/queues',
    '/admin/queues/static/js/x.js',
  ];

  it('answers 401 with a Basic challenge and shows nothing without credentials', async () => {
    for (const path of paths) {
      const res = await http().get(path);
      expect([path, res.status]).toEqual([path, 401]);
      expect(res.headers['www-authenticate']).toMatch(/Basic realm=/);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.text).not.toMatch(/ingest|cleanup|maintenance|<html/i);
    }
  });

  it('answers 401 for a wrong password or an unknown key, 403 for a user key', async () => {
    expect((await http().get('/admin/queues').auth(USER, 'wrong password')).status).toBe(401);
    expect((await http().get('/admin/queues').auth('someone', PASSWORD)).status).toBe(401);
    expect(
      (await http().get('/admin/queues/api/queues').set('Authorization', 'Bearer qk_unknown'))
        .status,
    ).toBe(401);
    const user = await http().get('/admin/queues/api/queues').set('Authorization', userKey);
    expect(user.status).toBe(403);
    expect(user.text).not.toContain('ingest');
  });

  it('shows the dashboard and every queue with basic auth', async () => {
    const page = await http().get('/admin/queues').auth(USER, PASSWORD);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.text).toContain('Quarry queues');
    const script = /src="([^"]*static\/js\/[^"]+\.js)"/.exec(page.text)?.[1];
    expect(script).toBeDefined();
    const asset = await http()
      .get(new URL(script ?? '', 'http://x/admin/queues/').pathname)
      .auth(USER, PASSWORD);
    expect(asset.status).toBe(200);
    expect(
      (await http().get(new URL(script ?? '', 'http://x/admin/queues/').pathname)).status,
    ).toBe(401);
    const api = await http().get('/admin/queues/api/queues').auth(USER, PASSWORD);
    expect(api.status).toBe(200);
    const names = (api.body.queues as { name: string }[]).map((q) => q.name).sort();
    expect(names).toEqual(['cleanup', 'ingest', 'maintenance']);
  });

  it('shows the queues with an admin API key', async () => {
    const api = await http().get('/admin/queues/api/queues').set('Authorization', adminKey);
    expect(api.status).toBe(200);
    expect((api.body.queues as unknown[]).length).toBe(3);
  });
});
