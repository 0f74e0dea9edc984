import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { DocumentsStack, startDocumentsStack } from './support/documents-stack';

const run = promisify(execFile);
const CLI = join(__dirname, '../../../dist/apps/cli/src/main.js');

/**
 * Keys made by the operator's command work against the api at once, and stop when revoked
 * (within the api's key cache TTL, since the cli is another process).
 */
describe('api-keys command against the api', () => {
  let stack: DocumentsStack;

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
    stack = await startDocumentsStack('cli-keys');
  });

  afterAll(async () => {
    await stack?.close();
  });

  const cli = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [CLI, 'api-keys', ...args], {
        env: {
          PATH: process.env.PATH ?? '',
          NODE_ENV: 'test',
          DATABASE_URL: stack.config.db.url,
          REDIS_URL: stack.config.redis.url,
          QUEUE_PREFIX: stack.config.redis.prefix,
          QDRANT_URL: stack.config.qdrant.url,
        },
        timeout: 30_000,
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const failed = err as { code?: number; stdout?: string; stderr?: string };
      return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
    }
  };
  const http = () => request(stack.app.getHttpServer());

  it('creates a key that authenticates as its owner, lists it without the secret, revokes it', async () => {
    const created = await cli('create', '--owner', 'dana', '--name', 'laptop', '--json');
    expect(created.code).toBe(0);
    const key = JSON.parse(created.stdout) as { id: string; key: string; role: string };
    expect(key).toMatchObject({ owner_id: 'dana', role: 'user', name: 'laptop' });
    expect(key.key).toMatch(/^qk_/);

    const made = await http()
      .post('/v1/collections')
      .set('Authorization', `Bearer ${key.key}`)
      .send({ name: 'from the cli key' });
    expect(made.status).toBe(201);

    const listed = await cli('list', '--owner', 'dana', '--json');
    expect(listed.code).toBe(0);
    const keys = JSON.parse(listed.stdout) as { id: string; revoked_at: string | null }[];
    expect(keys.map((k) => k.id)).toEqual([key.id]);
    expect(listed.stdout).not.toContain(key.key);

    const human = await cli('list');
    expect(human.stdout).toContain(key.id);
    expect(human.stdout).not.toContain(key.key);

    const revoked = await cli('revoke', key.id);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`revoked key ${key.id}`);
    // The cli is another process: the api may trust the key it verified for up to
    // API_KEY_CACHE_TTL_MS, and no longer.
    const ttl = stack.config.auth.keyCacheTtlMs;
    const revokedAt = Date.now();
    let status: number;
    do {
      status = (await http().get('/v1/collections').set('Authorization', `Bearer ${key.key}`))
        .status;
      if (status === 401) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    } while (Date.now() - revokedAt <= ttl + 2_000);
    expect(status).toBe(401);
    expect(Date.now() - revokedAt).toBeLessThanOrEqual(ttl + 1_000);
  });

  it('prints the key once in human form and makes admin keys on request', async () => {
    const created = await cli('create', '--owner', 'ops', '--role', 'admin');
    expect(created.code).toBe(0);
    const secret = /key: (qk_\S+)/.exec(created.stdout)?.[1];
    expect(secret).toBeDefined();
    expect(created.stdout).toContain('created admin key');
    const board = await http()
      .get('/admin/queues/api/queues')
      .set('Authorization', `Bearer ${secret}`);
    expect(board.status).toBe(200);
  });

  it('refuses a missing owner, a bad role and an unknown id with a non-zero exit', async () => {
    expect((await cli('create')).code).not.toBe(0);
    const badRole = await cli('create', '--owner', 'x', '--role', 'root');
    expect(badRole.code).not.toBe(0);
    expect(badRole.stderr).toMatch(/role/);
    const unknown = await cli('revoke', '00000000-0000-4000-8000-000000000000');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('was not found');
  });
});
