import type { NestExpressApplication } from '@nestjs/platform-express';
import { ApiKeysService } from '@quarry/documents';
import { JobName, QueueName } from '@quarry/queue';
import { documentFactory } from '@quarry/testing';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { ReconcileStack } from '../../worker/test/support/reconcile-stack';
import { createApiApp } from '../src/create-api-app';
import { OperationsApiModule } from '../src/operations/operations-api.module';

describe('admin job controls: /v1/admin/jobs, queues/pause|resume, jobs/reset-stuck', () => {
  let stack: ReconcileStack;
  let app: NestExpressApplication;
  let admin: string;
  let user: string;

  beforeAll(async () => {
    stack = await ReconcileStack.start('ops_api');
    app = await createApiApp(stack.configFor('api'), { extraModules: [OperationsApiModule] });
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

  it('needs an admin key on every route', async () => {
    expect((await http().get('/v1/admin/jobs')).status).toBe(401);
    for (const [method, url] of [
      ['get', '/v1/admin/jobs'],
      ['post', '/v1/admin/queues/pause'],
      ['post', '/v1/admin/queues/resume'],
      ['post', '/v1/admin/jobs/reset-stuck'],
    ] as const) {
      const res = await http()[method](url).set('Authorization', user);
      expect({ url, status: res.status }).toEqual({ url, status: 403 });
    }
    expect((await stack.jobs.counts(QueueName.Ingest)).paused).toBe(false);
  });

  it('pauses and resumes a queue or all, and the jobs report shows it', async () => {
    const paused = await http()
      .post('/v1/admin/queues/pause')
      .set('Authorization', admin)
      .send({ queue: 'ingest' });
    expect(paused.status).toBe(200);
    expect(paused.body).toEqual({
      queues: ['ingest'],
      changed: ['ingest'],
      paused: { ingest: true, cleanup: false, maintenance: false },
    });
    await stack.upload('uploaded while ingestion is paused');

    const jobs = await http().get('/v1/admin/jobs').set('Authorization', admin);
    expect(jobs.status).toBe(200);
    expect(jobs.body.queues).toContainEqual(
      expect.objectContaining({ name: 'ingest', paused: true, waiting: 1 }),
    );
    expect(jobs.body.documents).toMatchObject({ pending: 1, completed: 0 });

    const resumed = await http().post('/v1/admin/queues/resume').set('Authorization', admin);
    expect(resumed.status).toBe(200);
    expect(resumed.body.changed).toEqual(['ingest']);
    expect(Object.values(resumed.body.paused)).toEqual([false, false, false]);

    const bad = await http()
      .post('/v1/admin/queues/pause')
      .set('Authorization', admin)
      .send({ queue: 'uploads' });
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
  });

  it('resets documents stuck in processing past olderThanSeconds and enqueues them', async () => {
    const ds = stack.client.get(DataSource);
    const stuck = await documentFactory(ds, {
      status: 'processing',
      ownerId: stack.ownerId,
      heartbeatAt: new Date(Date.now() - 10 * 60_000),
    })
      .inCollection(stack.collectionId)
      .create();

    const hourly = await http().post('/v1/admin/jobs/reset-stuck').set('Authorization', admin);
    expect(hourly.status).toBe(200);
    expect(hourly.body).toMatchObject({ olderThanMs: 3_600_000, reset: [], enqueued: 0 });

    const res = await http()
      .post('/v1/admin/jobs/reset-stuck')
      .set('Authorization', admin)
      .send({ olderThanSeconds: 300 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ reset: [{ id: stuck.id }], enqueued: 1 });
    expect((await stack.status(stuck.id)).status).toBe('pending');
    expect(
      await stack.jobs.hasLiveJob(JobName.IngestDocument, `ingest-${stuck.id}-${stuck.generation}`),
    ).toBe(true);

    const bad = await http()
      .post('/v1/admin/jobs/reset-stuck')
      .set('Authorization', admin)
      .send({ olderThanSeconds: -1 });
    expect(bad.status).toBe(400);
  });
});
