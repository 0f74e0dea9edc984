import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { loadConfig, QuarryConfig } from '@quarry/config';
import { ApiKeysService } from '@quarry/documents';
import { MetricNames } from '@quarry/observability';
import { createTestDatabase, TestDatabase } from '@quarry/testing';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createApiApp } from '../../api/src/create-api-app';
import { MetricsHttpServer } from '../../api/src/metrics/metrics-http.server';
import { WorkerHttpServer } from '../src/http/worker-http.server';
import { workerModuleFor } from '../src/worker-processors';

/** `name{labels} value` lines of one metric (histograms: its _count series). */
function samples(text: string, name: string): { labels: string; value: number }[] {
  const out: { labels: string; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!match) continue;
    if (match[1] === name || match[1] === `${name}_count`)
      out.push({ labels: match[2] ?? '', value: Number(match[3]) });
  }
  return out;
}

describe('metrics: both apps after an ingest', () => {
  let db: TestDatabase;
  let api: NestExpressApplication;
  let worker: INestApplicationContext;
  let apiUrl: string;
  let workerUrl: string;
  let key: string;
  let config: (app: 'api' | 'worker') => QuarryConfig;

  beforeAll(async () => {
    db = await createTestDatabase('metrics');
    const suffix = randomBytes(4).toString('hex');
    config = (app) =>
      loadConfig({
        app,
        env: {},
        overrides: {
          NODE_ENV: 'test',
          DATABASE_URL: db.url,
          REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
          QDRANT_URL: process.env.QDRANT_URL ?? 'http://127.0.0.1:6333',
          QDRANT_COLLECTION: `quarry_test_metrics_${suffix}`,
          QUEUE_PREFIX: `quarry-test-metrics-${suffix}`,
          WORKER_HTTP_PORT: 0,
          RECONCILE_INTERVAL_MS: 1_000,
          DB_SLOW_QUERY_MS: 1,
          LOG_LEVEL: 'silent',
          SHUTDOWN_GRACE_MS: 5_000,
        },
      });
    worker = await NestFactory.createApplicationContext(workerModuleFor(config('worker')), {
      logger: false,
    });
    await worker.init();
    workerUrl = `http://127.0.0.1:${worker.get(WorkerHttpServer).port}`;
    api = await createApiApp(config('api'));
    await api.listen(0, '127.0.0.1');
    apiUrl = `http://127.0.0.1:${(api.getHttpServer().address() as AddressInfo).port}`;
    key = (await api.get(ApiKeysService).create({ ownerId: 'metrics-owner' })).key;
  }, 60_000);

  afterAll(async () => {
    await api?.close();
    await worker?.close();
    await fetch(`${config('api').qdrant.url}/collections/${config('api').qdrant.collection}`, {
      method: 'DELETE',
    }).catch(() => undefined);
    await db?.drop();
  });

  it('exposes every catalogued metric with sensible values', async () => {
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const collection = (await (
      await fetch(`${apiUrl}/v1/collections`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ name: 'm' }),
      })
    ).json()) as { id: string };
    const upload = await fetch(`${apiUrl}/v1/documents/text`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        collection_id: collection.id,
        title: 'bees',
        text: 'Honeybees live in colonies with one queen. '.repeat(80),
      }),
    });
    expect(upload.status).toBe(202);
    const { document_id } = (await upload.json()) as { document_id: string };
    const deadline = Date.now() + 30_000;
    for (;;) {
      const status = (await (
        await fetch(`${apiUrl}/v1/documents/${document_id}/status`, { headers })
      ).json()) as { status: string };
      if (status.status === 'completed') break;
      if (Date.now() > deadline) throw new Error(`document still ${status.status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // the job is observed just after the document turns completed, and a reconcile run
    // records the integrity status: poll until both are there
    let workerText = '';
    for (let i = 0; i < 100; i++) {
      workerText = await (await fetch(`${workerUrl}/metrics`)).text();
      const ingested = samples(workerText, MetricNames.jobDuration).some((s) =>
        s.labels.includes('queue="ingest"'),
      );
      // queue and document gauges are cached for 5 s
      const counted = samples(workerText, MetricNames.documents).some(
        (s) => s.labels.includes('status="completed"') && s.value === 1,
      );
      if (ingested && counted && samples(workerText, MetricNames.integrityStatus).length > 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    // The api serves its metrics on METRICS_PORT, not on its public port.
    const apiMetricsUrl = `http://127.0.0.1:${api.get(MetricsHttpServer).port}`;
    const apiText = await (await fetch(`${apiMetricsUrl}/metrics`)).text();
    const both = `${apiText}\n${workerText}`;

    // every catalogued metric is declared by at least one app
    for (const name of Object.values(MetricNames)) {
      expect(both).toContain(`# TYPE ${name} `);
    }

    const http = samples(apiText, MetricNames.httpRequestDuration);
    expect(
      http.some(
        (s) =>
          s.labels.includes('route="/v1/documents/text"') &&
          s.labels.includes('status_code="202"') &&
          s.value >= 1,
      ),
    ).toBe(true);

    const completedIngests = samples(workerText, MetricNames.jobDuration).filter(
      (s) => s.labels.includes('queue="ingest"') && s.labels.includes('outcome="completed"'),
    );
    expect(completedIngests.reduce((sum, s) => sum + s.value, 0)).toBeGreaterThanOrEqual(1);
    expect(samples(workerText, MetricNames.jobsFailedTotal).every((s) => s.value === 0)).toBe(true);

    const queueJobs = samples(workerText, MetricNames.queueJobs);
    expect(
      queueJobs.find(
        (s) => s.labels.includes('queue="ingest"') && s.labels.includes('state="completed"'),
      )?.value,
    ).toBeGreaterThanOrEqual(1);
    expect(
      samples(workerText, MetricNames.queueOldestWaitingSeconds).every(
        (s) => s.value >= 0 && s.value < 3600,
      ),
    ).toBe(true);
    expect(
      samples(workerText, MetricNames.documents).find((s) =>
        s.labels.includes('status="completed"'),
      )?.value,
    ).toBe(1);

    for (const text of [apiText, workerText]) {
      const total = samples(text, MetricNames.dbPoolConnections).find((s) =>
        s.labels.includes('state="total"'),
      );
      expect(total?.value).toBeGreaterThanOrEqual(1);
      expect(total?.value).toBeLessThanOrEqual(10);
    }
    // the worker's chunk swap commits a transaction (the upload is a single statement)
    expect(
      samples(workerText, MetricNames.dbTransactionsTotal)
        .filter((s) => s.labels.includes('outcome="commit"'))
        .reduce((sum, s) => sum + s.value, 0),
    ).toBeGreaterThanOrEqual(1);
    expect(
      samples(both, MetricNames.dbSlowQueriesTotal).reduce((sum, s) => sum + s.value, 0),
    ).toBeGreaterThanOrEqual(1);
    expect(samples(both, MetricNames.dbPoolExhaustedTotal).every((s) => s.value === 0)).toBe(true);

    const qdrant = samples(workerText, MetricNames.qdrantRequestDuration);
    expect(
      qdrant.some(
        (s) =>
          s.labels.includes('operation="upsert"') &&
          s.labels.includes('outcome="ok"') &&
          s.value >= 1,
      ),
    ).toBe(true);

    expect(samples(workerText, MetricNames.integrityStatus)[0].value).toBeGreaterThanOrEqual(0);
    expect(samples(workerText, MetricNames.reconcilerFindings).length).toBeGreaterThan(0);
  }, 90_000);
});
