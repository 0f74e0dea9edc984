import type { NestExpressApplication } from '@nestjs/platform-express';
import { ApiKeysService, RECONCILER_LOCK_KEY } from '@quarry/documents';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import request from 'supertest';
import { ReconcileStack } from '../../worker/test/support/reconcile-stack';
import { createApiApp } from '../src/create-api-app';
import { IntegrityApiModule } from '../src/integrity/integrity-api.module';

describe('GET /v1/admin/integrity and POST /v1/admin/integrity/fix', () => {
  let stack: ReconcileStack;
  let app: NestExpressApplication;
  let admin: string;
  let user: string;

  beforeAll(async () => {
    stack = await ReconcileStack.start('integrity_api');
    app = await createApiApp(stack.configFor('api'), { extraModules: [IntegrityApiModule] });
    await app.init();
    const keys = app.get(ApiKeysService);
    admin = `Bearer ${(await keys.create({ ownerId: 'ops', role: 'admin' })).key}`;
    user = `Bearer ${(await keys.create({ ownerId: stack.ownerId, role: 'user' })).key}`;
  });

  afterAll(async () => {
    await app?.close();
    await stack?.close();
  });

  const http = () => request(app.getHttpServer());

  it('needs an admin key', async () => {
    expect((await http().get('/v1/admin/integrity')).status).toBe(401);
    const forbidden = await http().get('/v1/admin/integrity').set('Authorization', user);
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers['content-type']).toContain('application/problem+json');
    expect((await http().post('/v1/admin/integrity/fix').set('Authorization', user)).status).toBe(
      403,
    );
  });

  it('reports, repairs, and reports healthy again', async () => {
    const healthy = await http().get('/v1/admin/integrity').set('Authorization', admin);
    expect(healthy.status).toBe(200);
    expect(healthy.body).toMatchObject({ overall: 'healthy', fix: false, repairs: [] });
    expect(healthy.body.findings.length).toBeGreaterThanOrEqual(14);

    const documentId = randomUUID();
    const id = randomUUID();
    await stack.vectors.upsertChunks([
      {
        id,
        vector: Array.from({ length: stack.config.qdrant.dimension }, () => 0.1),
        payload: {
          document_id: documentId,
          collection_id: stack.collectionId,
          owner_id: stack.ownerId,
          generation: 1,
          ordinal: 0,
        },
      },
    ]);
    const drift = await http().get('/v1/admin/integrity').set('Authorization', admin);
    expect(drift.body.overall).toBe('warning');
    expect(drift.body.findings).toContainEqual(
      expect.objectContaining({ kind: 'orphan_points', count: 1, examples: [id] }),
    );

    const fixed = await http().post('/v1/admin/integrity/fix').set('Authorization', admin);
    expect(fixed.status).toBe(200);
    expect(fixed.body).toMatchObject({ fix: true, repairs: [{ kind: 'orphan_points', count: 1 }] });
    expect(await stack.vectors.countByDocument(documentId)).toBe(0);

    const after = await http().get('/v1/admin/integrity').set('Authorization', admin);
    expect(after.body.overall).toBe('healthy');
  });

  it('answers 409 with Retry-After while the reconciler holds its lock', async () => {
    const holder = new Client({ connectionString: stack.db.url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1::bigint)', [RECONCILER_LOCK_KEY]);
      const busy = await http().post('/v1/admin/integrity/fix').set('Authorization', admin);
      expect(busy.status).toBe(409);
      expect(busy.headers['retry-after']).toBe('5');
      expect(busy.body.detail).toMatch(/reconciler is running/);
    } finally {
      await holder.end();
    }
  });
});
