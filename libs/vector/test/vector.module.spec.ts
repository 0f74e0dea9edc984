import { Test } from '@nestjs/testing';
import {
  MetricNames,
  MetricsService,
  ShutdownCoordinator,
  ShutdownPhase,
} from '@quarry/observability';
import { QdrantGateway, VectorHealthIndicator, VectorModule } from '@quarry/vector';
import { FakeQdrant, ok } from './fake-qdrant';
import { Global, Module } from '@nestjs/common';

const metrics = new MetricsService();
const coordinator = new ShutdownCoordinator();

@Global()
@Module({
  providers: [
    { provide: MetricsService, useValue: metrics },
    { provide: ShutdownCoordinator, useValue: coordinator },
  ],
  exports: [MetricsService, ShutdownCoordinator],
})
class FakeObservabilityModule {}

describe('VectorModule', () => {
  let fake: FakeQdrant;
  let url: string;

  beforeEach(async () => {
    fake = new FakeQdrant();
    url = await fake.start();
  });

  afterEach(async () => {
    await fake.stop();
  });

  it('builds from forRootAsync, uses the global metrics and registers its close step', async () => {
    fake.on('POST /collections/cfg_chunks/points/count', () => ok({ count: 2 }));
    const register = jest.spyOn(coordinator, 'register');
    const moduleRef = await Test.createTestingModule({
      imports: [
        FakeObservabilityModule,
        VectorModule.forRootAsync({
          inject: ['QDRANT_SETTINGS'],
          imports: [
            {
              module: class SettingsModule {},
              providers: [{ provide: 'QDRANT_SETTINGS', useValue: { url } }],
              exports: ['QDRANT_SETTINGS'],
            },
          ],
          useFactory: (settings: { url: string }) => ({
            url: settings.url,
            collection: 'cfg_chunks',
            dimension: 8,
            timeoutMs: 1_000,
            bootstrap: false,
          }),
        }),
      ],
    }).compile();
    await moduleRef.init();
    try {
      const gateway = moduleRef.get(QdrantGateway);
      expect(gateway.collection).toBe('cfg_chunks');
      await expect(gateway.count()).resolves.toBe(2);
      const histogram = await metrics.registry
        .getSingleMetric(MetricNames.qdrantRequestDuration)
        ?.get();
      expect(histogram?.values.some((v) => v.labels.operation === 'count')).toBe(true);
      expect(register).toHaveBeenCalledWith(
        expect.objectContaining({ name: 'qdrant', phase: ShutdownPhase.Qdrant }),
      );
      // bootstrap: false sent nothing but the count
      expect(fake.requests.map((r) => r.path)).toEqual(['/collections/cfg_chunks/points/count']);
    } finally {
      await moduleRef.close();
    }
  });

  it('bootstraps on init, so a failing Qdrant stops start-up', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        VectorModule.forRoot({
          url,
          collection: 'missing_routes',
          dimension: 8,
          timeoutMs: 1_000,
          retry: { attempts: 1 },
        }),
      ],
    }).compile();
    // the fake answers 404 to everything it was not told about
    await expect(moduleRef.init()).rejects.toMatchObject({ name: 'VectorStoreRequestError' });
    await moduleRef.close();
  });

  describe('VectorHealthIndicator', () => {
    async function indicatorFor(healthTimeoutMs: number) {
      const moduleRef = await Test.createTestingModule({
        imports: [
          VectorModule.forRoot({
            url,
            collection: 'h',
            dimension: 8,
            timeoutMs: 5_000,
            healthTimeoutMs,
            bootstrap: false,
          }),
        ],
      }).compile();
      return { moduleRef, indicator: moduleRef.get(VectorHealthIndicator) };
    }

    it('is up when /readyz answers', async () => {
      fake.on('GET /readyz', () => ({ status: 200, raw: 'all shards are ready' }));
      const { moduleRef, indicator } = await indicatorFor(1_000);
      await expect(indicator.isHealthy()).resolves.toMatchObject({ qdrant: { status: 'up' } });
      await moduleRef.close();
    });

    it('is down when /readyz answers 503', async () => {
      fake.on('GET /readyz', () => ({ status: 503, raw: 'some shards are not ready' }));
      const { moduleRef, indicator } = await indicatorFor(1_000);
      const result = await indicator.isHealthy('vector');
      expect(result.vector.status).toBe('down');
      expect(fake.count('GET /readyz')).toBe(1);
      await moduleRef.close();
    });

    it('is down within its hard timeout when Qdrant hangs', async () => {
      fake.on('GET /readyz', () => 'hang');
      const { moduleRef, indicator } = await indicatorFor(200);
      const result = await indicator.isHealthy();
      expect(result.qdrant.status).toBe('down');
      expect(result.qdrant.message).toMatch(/timeout|timed out/);
      await moduleRef.close();
    });
  });
});
