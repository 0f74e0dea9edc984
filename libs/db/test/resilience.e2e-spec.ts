import {
  classifyDbError,
  Collection,
  ConnectionErrorEvent,
  ConnectionLostError,
  createDataSource,
  DbEvents,
  isConnectionLost,
  poolStats,
  preparedRead,
  retryRead,
  withTransaction,
} from '@quarry/db';
import { createTestDatabase, testDbOptions, TestDatabase } from '@quarry/testing';
import { Client } from 'pg';
import { DataSource, QueryFailedError } from 'typeorm';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 3_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

describe('connection resilience', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let admin: Client;
  const events = new DbEvents();
  const connectionErrors: ConnectionErrorEvent[] = [];
  const appName = `quarry-resilience-${process.pid}`;

  /** what an operator would do: end every connection of this application */
  const terminateAll = async (): Promise<number> => {
    const { rows } = await admin.query(
      `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n
         FROM pg_stat_activity WHERE application_name = $1 AND datname = $2`,
      [appName, db.name],
    );
    return rows[0].n as number;
  };

  const terminateWhen = async (pattern: string, only = false): Promise<void> => {
    await waitFor(async () => {
      const { rows } = await admin.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE application_name = $1 AND state = 'active' AND query LIKE $2`,
        [appName, `%${pattern}%`],
      );
      return rows[0].n > 0;
    });
    if (!only) {
      await terminateAll();
      return;
    }
    await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE application_name = $1 AND state = 'active' AND query LIKE $2`,
      [appName, `%${pattern}%`],
    );
  };

  beforeAll(async () => {
    db = await createTestDatabase('db_resilience');
    ds = createDataSource(testDbOptions(db.url, { applicationName: appName, poolMax: 4 }), {
      events,
    });
    events.on('connection-error', (e) => connectionErrors.push(e));
    await ds.initialize();
    admin = new Client({ connectionString: db.url, application_name: 'quarry-test-admin' });
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.end();
    await ds?.destroy();
    await db?.drop();
  });

  beforeEach(() => {
    connectionErrors.length = 0;
  });

  const warmPool = async (n: number) => {
    await Promise.all(Array.from({ length: n }, () => ds.query(`SELECT pg_sleep(0.05)`)));
    expect(poolStats(ds).primary.idle).toBe(n);
  };

  it('drops idle clients whose backend was terminated, without crashing, and serves the next queries', async () => {
    await warmPool(4);
    expect(await terminateAll()).toBe(4);
    await waitFor(() => poolStats(ds).primary.total === 0);
    expect(connectionErrors.filter((e) => e.where === 'idle')).toHaveLength(4);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => ds.query(`SELECT $1::int AS i`, [i])),
    );
    expect(results.map((r) => r[0].i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('opens a transaction right after every pooled connection was killed (BEGIN retried on a fresh one)', async () => {
    await warmPool(4);
    expect(await terminateAll()).toBe(4);
    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        withTransaction(ds, async (m) => (await m.query(`SELECT 1 AS ok`))[0].ok as number),
      ),
    );
    expect(results).toEqual([1, 1, 1, 1]);
  });

  it('does not let a throwing event listener break the query path', async () => {
    const throwing = () => {
      throw new Error('listener bug');
    };
    events.on('commit', throwing);
    try {
      await expect(
        withTransaction(ds, async (m) => (await m.query(`SELECT 2 AS v`))[0].v),
      ).resolves.toBe(2);
    } finally {
      events.off('commit', throwing);
    }
  });

  it('raises a connection-level error for an in-flight query and never hands that client out again', async () => {
    await warmPool(4);
    const inflight = ds.query(`SELECT pg_sleep(5) AS in_flight_marker`);
    inflight.catch(() => undefined);
    await terminateWhen('in_flight_marker', true);
    const err = await inflight.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(QueryFailedError);
    expect(classifyDbError(err)).toMatchObject({
      kind: 'connection-lost',
      code: '57P01',
      retryable: true,
    });
    // Straight after the failure, with the pool at its maximum: no checkout gets the dead client.
    const results = await Promise.all(
      Array.from({ length: 12 }, () => ds.query(`SELECT pg_sleep(0.02), 1 AS ok`)),
    );
    expect(results.every((r) => r[0].ok === 1)).toBe(true);
    expect(connectionErrors.some((e) => e.where === 'in-use' && e.code === '57P01')).toBe(true);
  });

  it('retries an idempotent read once on a fresh connection when its connection dies', async () => {
    let calls = 0;
    const read = retryRead(ds, async (manager) => {
      calls += 1;
      const rows = await manager.query(
        calls === 1 ? `SELECT pg_sleep(5), 42 AS answer /* retry_marker */` : `SELECT 42 AS answer`,
      );
      return rows[0].answer as number;
    });
    await terminateWhen('retry_marker');
    await expect(read).resolves.toBe(42);
    expect(calls).toBe(2);
  });

  it('gives up after one retry with ConnectionLostError', async () => {
    let calls = 0;
    const read = retryRead(ds, async (manager) => {
      calls += 1;
      return manager.query(`SELECT pg_sleep(5) /* twice_marker_${calls} */`);
    });
    read.catch(() => undefined);
    await terminateWhen('twice_marker_1');
    await terminateWhen('twice_marker_2');
    await expect(read).rejects.toBeInstanceOf(ConnectionLostError);
    await expect(read).rejects.toThrow(/database connection lost during read/);
    expect(calls).toBe(2);
  });

  it('retries a prepared read once on a fresh connection when its connection dies', async () => {
    const read = preparedRead(ds, `SELECT 42 AS answer FROM pg_sleep(0.5) /* prepared_retry */`);
    await terminateWhen('prepared_retry', true);
    await expect(read).resolves.toEqual([{ answer: 42 }]);
  });

  it('gives up on a prepared read after one retry with ConnectionLostError', async () => {
    const read = preparedRead(ds, `SELECT 1 FROM pg_sleep(5) /* prepared_twice */`);
    read.catch(() => undefined);
    await terminateWhen('prepared_twice', true);
    await sleep(150);
    await terminateWhen('prepared_twice', true);
    await expect(read).rejects.toBeInstanceOf(ConnectionLostError);
  });

  it('surfaces a transaction whose connection died mid-statement, with nothing committed and no poisoned state', async () => {
    const tx = withTransaction(ds, async (manager) => {
      await manager.save(manager.create(Collection, { ownerId: 'killed', name: 'x' }));
      await manager.query(`SELECT pg_sleep(5) /* tx_marker */`);
    });
    tx.catch(() => undefined);
    await terminateWhen('tx_marker');
    const err = await tx.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isConnectionLost(err)).toBe(true);
    expect((err as Error).message).toMatch(/connection lost during transaction \(rolled back\)/);
    expect((err as Error).cause).toBeInstanceOf(QueryFailedError);
    await assertHealthyAfterwards('killed');
  });

  it('surfaces a transaction whose connection died while it was idle between statements', async () => {
    let reachedIdle!: () => void;
    const idle = new Promise<void>((resolve) => (reachedIdle = resolve));
    const tx = withTransaction(ds, async (manager) => {
      await manager.save(manager.create(Collection, { ownerId: 'killed-idle', name: 'x' }));
      reachedIdle();
      await sleep(400);
      await manager.save(manager.create(Collection, { ownerId: 'killed-idle', name: 'y' }));
    });
    tx.catch(() => undefined);
    await idle;
    expect(await terminateAll()).toBeGreaterThanOrEqual(1);
    await expect(tx).rejects.toBeInstanceOf(ConnectionLostError);
    expect(connectionErrors.filter((e) => e.where === 'in-use')).toHaveLength(1);
    await assertHealthyAfterwards('killed-idle');
  });

  it('says the outcome is unknown when the connection dies during COMMIT', async () => {
    // A deferred constraint trigger makes COMMIT itself take time, so it can be cut.
    await ds.query(`CREATE TABLE commit_probe (x int)`);
    await ds.query(`CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN PERFORM pg_sleep(5); RETURN NULL; END $$`);
    await ds.query(`CREATE CONSTRAINT TRIGGER commit_probe_slow AFTER INSERT ON commit_probe
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit()`);
    const tx = withTransaction(ds, (m) => m.query(`INSERT INTO commit_probe VALUES (1)`));
    tx.catch(() => undefined);
    await terminateWhen('COMMIT', true);
    const err = await tx.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectionLostError);
    expect((err as Error).message).toMatch(/during COMMIT \(the outcome is unknown\)/);
    const [row] = await ds.query(`SELECT count(*)::int AS n FROM commit_probe`);
    expect(row.n).toBe(0);
    await assertHealthyAfterwards('commit-probe');
  });

  async function assertHealthyAfterwards(ownerId: string): Promise<void> {
    expect(await ds.getRepository(Collection).countBy({ ownerId })).toBe(0);
    // Every connection the pool hands out now works, inside and outside transactions.
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        i % 2
          ? withTransaction(ds, async (m) => (await m.query(`SELECT 1 AS ok`))[0].ok as number)
          : ds.query(`SELECT 1 AS ok`).then((r) => r[0].ok as number),
      ),
    );
    expect(results).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    const { rows } = await admin.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE application_name = $1 AND state LIKE 'idle in transaction%'`,
      [appName],
    );
    expect(rows[0].n).toBe(0);
  }
});
