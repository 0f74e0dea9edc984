import { Global, Module } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import {
  classifyDbError,
  Collection,
  createDataSource,
  DB_OPTIONS,
  DbEvents,
  DbHealthIndicator,
  DbModule,
  DbModuleOptions,
  DbService,
  hasPendingMigrations,
  isPoolExhausted,
  PoolExhaustedError,
  PoolExhaustedEvent,
  poolStats,
  retryRead,
  SlowQueryEvent,
  TransactionService,
  withTransaction,
} from '@quarry/db';
import { MetricsService, ShutdownCoordinator } from '@quarry/observability';
import { createTestDatabase, testDbOptions, TestDatabase } from '@quarry/testing';
import { createServer, Server, Socket } from 'node:net';
import { Client } from 'pg';
import { DataSource } from 'typeorm';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function connectionsOf(adminUrl: string, applicationName: string): Promise<number> {
  const admin = new Client({ connectionString: adminUrl, application_name: 'quarry-test-admin' });
  await admin.connect();
  try {
    const { rows } = await admin.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1`,
      [applicationName],
    );
    return rows[0].n as number;
  } finally {
    await admin.end();
  }
}

async function waitForConnections(url: string, app: string, expected: number): Promise<number> {
  const deadline = Date.now() + 3_000;
  let n = await connectionsOf(url, app);
  while (n !== expected && Date.now() < deadline) {
    await sleep(50);
    n = await connectionsOf(url, app);
  }
  return n;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    }),
  );
}

describe('pool limits, slow queries and health', () => {
  let db: TestDatabase;
  let ds: DataSource;
  const events = new DbEvents();
  const appName = `quarry-pool-${process.pid}`;
  let options: DbModuleOptions;

  beforeAll(async () => {
    db = await createTestDatabase('db_pool');
    options = testDbOptions(db.url, {
      applicationName: appName,
      poolMax: 2,
      acquireTimeoutMs: 300,
      slowQueryMs: 100,
    });
    ds = createDataSource(options, { events });
    await ds.initialize();
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('fails a checkout past the acquire timeout with PoolExhaustedError instead of hanging', async () => {
    const exhausted: PoolExhaustedEvent[] = [];
    events.on('pool-exhausted', (e) => exhausted.push(e));
    const holders = Array.from({ length: 2 }, () =>
      withTransaction(ds, (m) => m.query(`SELECT pg_sleep(1.5)`)),
    );
    while (poolStats(ds).primary.total < 2) await sleep(10);

    const started = Date.now();
    const viaTransaction = withTransaction(ds, (m) => m.query(`SELECT 1`));
    const viaTypeOrm = ds.getRepository(Collection).count();
    const viaRead = retryRead(ds, (m) => m.query(`SELECT 1`));
    const errors = await Promise.all(
      [viaTransaction, viaTypeOrm, viaRead].map((p) =>
        p.then(
          () => undefined,
          (e: unknown) => e,
        ),
      ),
    );
    // Generous bound: the point is "answers", not a latency target.
    expect(Date.now() - started).toBeLessThan(1_400);
    for (const err of errors) {
      expect(err).toBeInstanceOf(PoolExhaustedError);
      expect(isPoolExhausted(err)).toBe(true);
      expect(classifyDbError(err)).toMatchObject({ kind: 'pool-exhausted', retryable: false });
      expect((err as PoolExhaustedError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect((err as PoolExhaustedError).message).toMatch(
        /pool "primary" exhausted: no connection became free within 300 ms/,
      );
    }
    expect(exhausted.length).toBeGreaterThanOrEqual(3);
    expect(exhausted[0]).toMatchObject({ pool: 'primary', acquireTimeoutMs: 300 });

    await Promise.all(holders);
    await expect(ds.query(`SELECT 1 AS ok`)).resolves.toEqual([{ ok: 1 }]);
    expect(await connectionsOf(db.url, appName)).toBeLessThanOrEqual(2);
  });

  it('under 200 concurrent callers on a pool of 5, each succeeds or gets PoolExhaustedError, none hangs', async () => {
    const pressureApp = `quarry-pressure-${process.pid}`;
    const pressured = createDataSource(
      testDbOptions(db.url, { applicationName: pressureApp, poolMax: 5, acquireTimeoutMs: 500 }),
    );
    await pressured.initialize();
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, poolStats(pressured).primary.total);
    }, 5);
    try {
      const outcomes = await Promise.all(
        Array.from({ length: 200 }, async (_, i) => {
          const started = Date.now();
          try {
            await (i % 2
              ? withTransaction(pressured, (m) => m.query(`SELECT pg_sleep(0.05)`))
              : retryRead(pressured, (m) => m.query(`SELECT pg_sleep(0.05)`)));
            return { ok: true, ms: Date.now() - started };
          } catch (err) {
            return {
              ok: false,
              exhausted: err instanceof PoolExhaustedError,
              ms: Date.now() - started,
            };
          }
        }),
      );
      const failed = outcomes.filter((o) => !o.ok);
      expect(outcomes.filter((o) => o.ok).length).toBeGreaterThan(0);
      expect(failed.length).toBeGreaterThan(0);
      expect(failed.every((o) => o.exhausted)).toBe(true);
      // "never hangs": bounded by the acquire timeout plus one held statement, with slack
      expect(Math.max(...outcomes.map((o) => o.ms))).toBeLessThan(500 + 1_000);
      expect(peak).toBeLessThanOrEqual(5);
      expect(await connectionsOf(db.url, pressureApp)).toBeLessThanOrEqual(5);
      await expect(pressured.query(`SELECT 1 AS ok`)).resolves.toEqual([{ ok: 1 }]);
    } finally {
      clearInterval(sampler);
      await pressured.destroy();
    }
  });

  it('emits a slow-query event with the duration and the statement, not for fast ones', async () => {
    const slow: SlowQueryEvent[] = [];
    events.on('slow-query', (e) => slow.push(e));
    await ds.query(`SELECT 1 /* fast_marker */`);
    await ds.query(`SELECT pg_sleep(0.25) /* slow_marker */`);
    expect(slow).toHaveLength(1);
    expect(slow[0].pool).toBe('primary');
    expect(slow[0].durationMs).toBeGreaterThanOrEqual(200);
    expect(slow[0].query).toContain('slow_marker');
  });

  it('health is up with pool stats, even while the pool is exhausted', async () => {
    const indicator = new DbHealthIndicator(new HealthIndicatorService(), ds, options);
    const holders = Array.from({ length: 2 }, () => ds.query(`SELECT pg_sleep(0.8)`));
    await sleep(100);
    const result = await indicator.isHealthy('database');
    expect(result.database.status).toBe('up');
    expect(result.database.pools).toEqual({ primary: { total: 2, idle: 0, waiting: 0 } });
    await Promise.all(holders);
  });

  it('health stays up through the pool when the server refuses new sessions for the role', async () => {
    const role = `quarry_limited_${process.pid}`;
    await ds.query(`CREATE ROLE ${role} LOGIN CONNECTION LIMIT 1`);
    const limitedUrl = new URL(db.url);
    limitedUrl.username = role;
    const limitedOptions = testDbOptions(limitedUrl.toString(), { poolMax: 1 });
    const limited = createDataSource(limitedOptions);
    try {
      await limited.initialize(); // holds the role's only session, idle in the pool
      const indicator = new DbHealthIndicator(
        new HealthIndicatorService(),
        limited,
        limitedOptions,
      );
      const result = await indicator.isHealthy('database');
      expect(result.database.status).toBe('up');

      // ...and down within the deadline when that pooled session is busy too
      const busy = limited.query(`SELECT pg_sleep(1)`);
      await sleep(50);
      const started = Date.now();
      const down = await indicator.isHealthy('database', 300);
      expect(down.database.status).toBe('down');
      expect(Date.now() - started).toBeLessThan(1_000);
      await busy;
    } finally {
      await limited.destroy();
      await ds.query(`DROP ROLE ${role}`);
    }
  });

  it('health is down, within its timeout, when nothing listens on the port', async () => {
    const probe = createServer();
    const port = await listen(probe);
    await new Promise((resolve) => probe.close(resolve));
    const indicator = new DbHealthIndicator(new HealthIndicatorService(), ds, {
      ...options,
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    });
    const result = await indicator.isHealthy('database', 500);
    expect(result.database.status).toBe('down');
    expect(String(result.database.message)).toMatch(/ECONNREFUSED|connect/i);
  });

  it('health is down, within its timeout, when the server accepts but never answers', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    const port = await listen(silent);
    try {
      const indicator = new DbHealthIndicator(new HealthIndicatorService(), ds, {
        ...options,
        url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      });
      const started = Date.now();
      const result = await indicator.isHealthy('database', 300);
      expect(result.database.status).toBe('down');
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      sockets.forEach((s) => s.destroy());
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe('DbModule in a Nest application', () => {
  let db: TestDatabase;
  const appName = `quarry-module-${process.pid}`;
  const coordinator = new ShutdownCoordinator();
  const metrics = new MetricsService();

  @Global()
  @Module({
    providers: [
      { provide: ShutdownCoordinator, useValue: coordinator },
      { provide: MetricsService, useValue: metrics },
    ],
    exports: [ShutdownCoordinator, MetricsService],
  })
  class FakeObservabilityModule {}

  const APP_CONFIG = 'APP_CONFIG';
  @Module({
    providers: [{ provide: APP_CONFIG, useFactory: () => ({ databaseUrl: db.url }) }],
    exports: [APP_CONFIG],
  })
  class FakeConfigModule {}

  beforeAll(async () => {
    db = await createTestDatabase('db_module', { migrate: false });
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('migrates at start, joins transactions through DbService, reports metrics, and closes its pool in the shutdown step', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        FakeObservabilityModule,
        DbModule.forRootAsync({
          imports: [FakeConfigModule],
          inject: [APP_CONFIG],
          useFactory: (config: { databaseUrl: string }) =>
            testDbOptions(config.databaseUrl, { applicationName: appName, migrationsRun: true }),
        }),
      ],
    }).compile();
    const app = moduleRef.createNestApplication();
    await app.init();
    try {
      const ds = app.get(DataSource);
      expect(app.get(DB_OPTIONS).applicationName).toBe(appName);
      await expect(hasPendingMigrations(ds)).resolves.toBe(false);

      const dbService = app.get(DbService);
      const transactions = app.get(TransactionService);
      await expect(
        transactions.withTransaction(async () => {
          await dbService.repo(Collection).save({ ownerId: 'module', name: 'kept?' });
          expect(dbService.inTransaction()).toBe(true);
          throw new Error('undo');
        }),
      ).rejects.toThrow('undo');
      await transactions.withTransaction(async () => {
        await dbService.repo(Collection).save({ ownerId: 'module', name: 'kept' });
      });
      const names = await dbService.read((m) =>
        m.getRepository(Collection).findBy({ ownerId: 'module' }),
      );
      expect(names.map((c) => c.name)).toEqual(['kept']);
      expect(dbService.poolStats().primary.total).toBeGreaterThanOrEqual(1);
      expect(app.get(DbEvents)).toBeInstanceOf(DbEvents);

      const { body } = await metrics.render();
      expect(body).toMatch(/quarry_db_transactions_total\{outcome="commit"\} [1-9]/);
      expect(body).toMatch(/quarry_db_transactions_total\{outcome="rollback"\} [1-9]/);
      expect(body).toMatch(/quarry_db_pool_connections\{pool="primary",state="total"\} [1-9]/);
      expect(await connectionsOf(db.url, appName)).toBeGreaterThanOrEqual(1);

      const report = await coordinator.shutdown('test');
      const step = report.steps.find((s) => s.name === 'database pool');
      expect(step).toBeDefined();
      expect(step?.error).toBeUndefined();
      expect(ds.isInitialized).toBe(false);
      expect(await waitForConnections(db.url, appName, 0)).toBe(0);
    } finally {
      await app.close();
    }
  });
});
