import { HealthIndicatorService } from '@nestjs/terminus';
import {
  Collection,
  createDataSource,
  DbEvents,
  DbHealthIndicator,
  getRepository,
  poolStats,
  preparedRead,
  retryRead,
  SlowQueryEvent,
  withTransaction,
} from '@quarry/db';
import { createTestDatabase, testDbOptions, TestDatabase } from '@quarry/testing';
import { connect, createServer, Socket } from 'node:net';
import { DataSource, EntityManager } from 'typeorm';

/** Tags each session with the node it was opened for, so a test can see where a statement ran. */
function tagged(url: string, node: 'primary' | 'replica'): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c quarry.node=${node}`);
  return u.toString();
}

const nodeOf = async (m: EntityManager): Promise<string> =>
  (await m.query(`SELECT current_setting('quarry.node', true) AS node`))[0].node as string;

describe('read replica routing', () => {
  let db: TestDatabase;
  let ds: DataSource;
  const events = new DbEvents();

  beforeAll(async () => {
    db = await createTestDatabase('db_replica');
    const options = testDbOptions(tagged(db.url, 'primary'), {
      readUrl: tagged(db.url, 'replica'),
      applicationName: `quarry-replica-${process.pid}`,
      slowQueryMs: 100,
    });
    ds = createDataSource(options, { events });
    await ds.initialize();
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('sends plain reads to the replica and transactions and raw statements to the primary', async () => {
    await expect(retryRead(ds, nodeOf)).resolves.toBe('replica');
    await expect(withTransaction(ds, nodeOf)).resolves.toBe('primary');
    await expect(nodeOf(ds.manager)).resolves.toBe('primary');
    // Inside a transaction, a read joins it on the primary (read-your-writes).
    await expect(withTransaction(ds, () => retryRead(ds, nodeOf))).resolves.toBe('primary');
  });

  it('sends prepared reads to the replica, and inside a transaction to the primary', async () => {
    const sql = `SELECT current_setting('quarry.node', true) AS node`;
    const node = async () => (await preparedRead<{ node: string }>(ds, sql))[0].node;
    await expect(node()).resolves.toBe('replica');
    await expect(withTransaction(ds, node)).resolves.toBe('primary');
  });

  it('keeps a pool per node: repository writes on the primary, reads through retryRead on the replica', async () => {
    await getRepository(ds, Collection).save({ ownerId: 'replica-test', name: 'a' });
    const seen: string[] = [];
    const stats = poolStats(ds);
    expect(stats.replica).toBeDefined();
    await retryRead(ds, (m) =>
      m.getRepository(Collection).findBy({ ownerId: 'replica-test' }),
    ).then((rows) => seen.push(...rows.map((r) => r.name)));
    expect(seen).toEqual(['a']);
    expect(poolStats(ds).replica!.total).toBeGreaterThanOrEqual(1);
    expect(poolStats(ds).primary.total).toBeGreaterThanOrEqual(1);
  });

  it('labels slow queries with the pool they ran on', async () => {
    const slow: SlowQueryEvent[] = [];
    events.on('slow-query', (e) => slow.push(e));
    await retryRead(ds, (m) => m.query(`SELECT pg_sleep(0.15) /* replica_slow */`));
    await withTransaction(ds, (m) => m.query(`SELECT pg_sleep(0.15) /* primary_slow */`));
    expect(slow.find((e) => e.query.includes('replica_slow'))?.pool).toBe('replica');
    expect(slow.find((e) => e.query.includes('primary_slow'))?.pool).toBe('primary');
    await preparedRead(ds, `SELECT pg_sleep(0.15) /* prepared_slow */`);
    expect(slow.find((e) => e.query.includes('prepared_slow'))?.pool).toBe('replica');
  });

  it('falls back to the primary when the replica goes away', async () => {
    // The "replica" is a TCP proxy to the same server, so the test can pull it away.
    const sockets = new Set<Socket>();
    const proxy = createServer((inbound) => {
      const outbound = connect(Number(new URL(db.url).port || 5432), new URL(db.url).hostname);
      sockets.add(inbound).add(outbound);
      inbound.pipe(outbound).pipe(inbound);
      const drop = () => {
        inbound.destroy();
        outbound.destroy();
      };
      inbound.on('error', drop).on('close', drop);
      outbound.on('error', drop).on('close', drop);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const address = proxy.address();
    const replicaUrl = new URL(tagged(db.url, 'replica'));
    replicaUrl.port = String(typeof address === 'object' && address ? address.port : 0);
    const withReplica = createDataSource(
      testDbOptions(tagged(db.url, 'primary'), {
        readUrl: replicaUrl.toString(),
        applicationName: `quarry-replica-down-${process.pid}`,
      }),
    );
    await withReplica.initialize();
    try {
      await expect(retryRead(withReplica, nodeOf)).resolves.toBe('replica');
      proxy.close(); // refuse new sessions...
      sockets.forEach((socket) => socket.destroy()); // ...and cut the open ones
      await expect(retryRead(withReplica, nodeOf)).resolves.toBe('primary');
    } finally {
      proxy.close();
      sockets.forEach((socket) => socket.destroy());
      await withReplica.destroy();
    }
  });

  it('health checks both nodes and reports both pools', async () => {
    const options = testDbOptions(tagged(db.url, 'primary'), {
      readUrl: tagged(db.url, 'replica'),
    });
    const indicator = new DbHealthIndicator(new HealthIndicatorService(), ds, options);
    const result = await indicator.isHealthy('database');
    expect(result.database.status).toBe('up');
    expect(Object.keys(result.database.pools as object).sort()).toEqual(['primary', 'replica']);

    const broken = new DbHealthIndicator(new HealthIndicatorService(), ds, {
      ...options,
      readUrl: 'postgres://postgres@127.0.0.1:1/postgres',
    });
    expect((await broken.isHealthy('database', 500)).database.status).toBe('down');
  });
});

describe('pool settings reach the server', () => {
  let db: TestDatabase;
  let ds: DataSource;
  const appName = `quarry-settings-${process.pid}`;

  beforeAll(async () => {
    db = await createTestDatabase('db_settings');
    ds = createDataSource(
      testDbOptions(db.url, {
        applicationName: appName,
        statementTimeoutMs: 7_000,
        transactionTimeoutMs: 4_000,
        maxLifetimeS: 1,
        poolMax: 1,
      }),
    );
    await ds.initialize();
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('sets application_name, statement_timeout and idle_in_transaction_session_timeout per session', async () => {
    const [row] = await ds.query(
      `SELECT current_setting('application_name') AS app,
              current_setting('statement_timeout') AS statement,
              current_setting('idle_in_transaction_session_timeout') AS idle_tx`,
    );
    expect(row).toEqual({ app: appName, statement: '7s', idle_tx: '9s' });
    // Inside withTransaction the transaction's own budget (plus slack) bounds both, and reverts after.
    const inside = await withTransaction(
      ds,
      async (m) =>
        (await m.query(`SELECT current_setting('statement_timeout') AS s`))[0].s as string,
      { timeoutMs: 1_500 },
    );
    expect(inside).toBe('2500ms');
    const [after] = await ds.query(`SELECT current_setting('statement_timeout') AS s`);
    expect(after.s).toBe('7s');
  });

  it('recycles a connection after DB_POOL_MAX_LIFETIME_S', async () => {
    const pidOf = async () => (await ds.query(`SELECT pg_backend_pid() AS pid`))[0].pid as number;
    const first = await pidOf();
    expect(await pidOf()).toBe(first);
    await new Promise((resolve) => setTimeout(resolve, 1_300));
    expect(await pidOf()).not.toBe(first);
  });
});
