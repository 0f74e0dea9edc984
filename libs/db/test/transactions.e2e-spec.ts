import {
  Collection,
  createDataSource,
  DbEvents,
  Document,
  getManager,
  getRepository,
  isInTransaction,
  oneTripTransaction,
  RollbackEvent,
  TransactionTimeoutError,
  withTransaction,
} from '@quarry/db';
import { createTestDatabase, documentFactory, testDbOptions, TestDatabase } from '@quarry/testing';
import { Client } from 'pg';
import { DataSource, QueryFailedError } from 'typeorm';

describe('withTransaction', () => {
  let db: TestDatabase;
  let ds: DataSource;
  const events = new DbEvents();
  const appName = `quarry-tx-${process.pid}`;

  beforeAll(async () => {
    db = await createTestDatabase('db_transactions');
    ds = createDataSource(
      testDbOptions(db.url, { applicationName: appName, poolMax: 4, transactionTimeoutMs: 5_000 }),
      { events },
    );
    await ds.initialize();
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  const countCollections = async (ownerId: string): Promise<number> =>
    ds.getRepository(Collection).countBy({ ownerId });

  it('commits everything done through the joined manager and repositories', async () => {
    const commits: number[] = [];
    events.on('commit', (e) => commits.push(e.durationMs));
    await withTransaction(ds, async (manager) => {
      await manager.save(manager.create(Collection, { ownerId: 'commit', name: 'a' }));
      await getRepository(ds, Collection).save({ ownerId: 'commit', name: 'b' });
      expect(isInTransaction(ds)).toBe(true);
    });
    expect(isInTransaction(ds)).toBe(false);
    expect(await countCollections('commit')).toBe(2);
    expect(commits.length).toBeGreaterThanOrEqual(1);
  });

  it('rolls everything back when a constraint is violated, including repository calls made through ALS', async () => {
    const rollbacks: RollbackEvent[] = [];
    events.on('rollback', (e) => rollbacks.push(e));
    const doc = await documentFactory(ds).create();
    const attempt = withTransaction(ds, async () => {
      // obtained without passing the manager around: joins through AsyncLocalStorage
      await getRepository(ds, Collection).save({ ownerId: 'rollback', name: 'first' });
      await getManager(ds).update(Document, { id: doc.id }, { stage: 'changed' });
      await getManager(ds).query(`UPDATE documents SET progress = 500 WHERE id = $1`, [doc.id]);
    });
    await expect(attempt).rejects.toBeInstanceOf(QueryFailedError);
    await expect(attempt).rejects.toMatchObject({ driverError: { code: '23514' } });
    expect(await countCollections('rollback')).toBe(0);
    const after = await ds.getRepository(Document).findOneByOrFail({ id: doc.id });
    expect(after.stage).toBeNull();
    expect(rollbacks.some((e) => e.reason === 'error')).toBe(true);
  });

  it('joins the outer transaction in nested calls, so an outer failure undoes the inner work', async () => {
    await expect(
      withTransaction(ds, async () => {
        await withTransaction(ds, async (inner) => {
          expect(inner).toBe(getManager(ds));
          await inner.save(inner.create(Collection, { ownerId: 'nested', name: 'inner' }));
        });
        const seen = await getRepository(ds, Collection).countBy({ ownerId: 'nested' });
        expect(seen).toBe(1);
        throw new Error('outer fails after inner finished');
      }),
    ).rejects.toThrow('outer fails after inner finished');
    expect(await countCollections('nested')).toBe(0);
  });

  it('does not leak the transaction into work started outside it', async () => {
    await withTransaction(ds, async (manager) => {
      await new Promise<void>((resolve) =>
        setImmediate(() => {
          expect(getManager(ds)).toBe(manager);
          resolve();
        }),
      );
    });
    expect(getManager(ds)).toBe(ds.manager);
  });

  it('serialises two concurrent read-modify-write transactions on one row (SELECT … FOR UPDATE)', async () => {
    const doc = await documentFactory(ds).create();
    const increment = () =>
      withTransaction(ds, async (manager) => {
        const [row] = await manager.query(
          `SELECT attempts FROM documents WHERE id = $1 FOR UPDATE`,
          [doc.id],
        );
        // widen the window in which a lost update would happen without the lock
        await new Promise((resolve) => setTimeout(resolve, 30));
        await manager.query(`UPDATE documents SET attempts = $2 WHERE id = $1`, [
          doc.id,
          row.attempts + 1,
        ]);
      });
    await Promise.all(Array.from({ length: 6 }, increment));
    const after = await ds.getRepository(Document).findOneByOrFail({ id: doc.id });
    expect(after.attempts).toBe(6);
  });

  it('times out, rolls back, stops the running statement and leaves the pool clean', async () => {
    const rollbacks: RollbackEvent[] = [];
    const listener = (e: RollbackEvent) => rollbacks.push(e);
    events.on('rollback', listener);
    const started = Date.now();
    const attempt = withTransaction(
      ds,
      async (manager) => {
        await manager.save(manager.create(Collection, { ownerId: 'timeout', name: 'x' }));
        await manager.query(`SELECT pg_sleep(10)`);
      },
      { timeoutMs: 300 },
    );
    await expect(attempt).rejects.toBeInstanceOf(TransactionTimeoutError);
    await expect(attempt).rejects.toThrow(/exceeded its 300 ms timeout and was rolled back/);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(5_000);
    events.off('rollback', listener);
    expect(rollbacks.map((e) => e.reason)).toContain('timeout');

    expect(await countCollections('timeout')).toBe(0);
    // The backend that ran pg_sleep is gone, not still sleeping with its locks.
    const sleeping = await ds.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND query LIKE '%pg_sleep(10)%' AND pid <> pg_backend_pid()`,
      [appName],
    );
    expect(sleeping[0].n).toBe(0);
    // Every pooled connection answers and none is left inside a transaction.
    const checks = await Promise.all(
      Array.from({ length: 4 }, () =>
        withTransaction(ds, async (m) => (await m.query(`SELECT 1 AS ok`))[0].ok as number),
      ),
    );
    expect(checks).toEqual([1, 1, 1, 1]);
    const states = await ds.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND state LIKE 'idle in transaction%'`,
      [appName],
    );
    expect(states[0].n).toBe(0);
  });

  it('times out while the transaction waits on something outside the database', async () => {
    let lateError: unknown;
    const attempt = withTransaction(
      ds,
      async (manager) => {
        await manager.save(manager.create(Collection, { ownerId: 'timeout-idle', name: 'x' }));
        await new Promise((resolve) => setTimeout(resolve, 700));
        // runs after the timeout: must not reach the database
        await manager
          .save(manager.create(Collection, { ownerId: 'timeout-idle', name: 'y' }))
          .catch((e: unknown) => {
            lateError = e;
          });
      },
      { timeoutMs: 250 },
    );
    await expect(attempt).rejects.toBeInstanceOf(TransactionTimeoutError);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(lateError).toBeDefined();
    expect(await countCollections('timeout-idle')).toBe(0);
  });

  it('applies the isolation level it is given', async () => {
    const level = await withTransaction(
      ds,
      async (m) => (await m.query(`SHOW transaction_isolation`))[0].transaction_isolation as string,
      { isolation: 'SERIALIZABLE' },
    );
    expect(level).toBe('serializable');
    const defaultLevel = await withTransaction(
      ds,
      async (m) => (await m.query(`SHOW transaction_isolation`))[0].transaction_isolation as string,
    );
    expect(defaultLevel).toBe('read committed');
  });
});

describe('oneTripTransaction', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let other: Client;
  const events = new DbEvents();

  beforeAll(async () => {
    db = await createTestDatabase('db_one_trip', { migrate: false });
    ds = createDataSource(testDbOptions(db.url, { poolMax: 2 }), { events });
    await ds.initialize();
    await ds.query(`CREATE TABLE items (id int PRIMARY KEY, owner text NOT NULL, state text)`);
    await ds.query(`CREATE TABLE parts (item_id int NOT NULL, n int NOT NULL)`);
    other = new Client({ connectionString: db.url });
    await other.connect();
  });

  afterAll(async () => {
    await other?.end();
    await ds?.destroy();
    await db?.drop();
  });

  it('commits every statement and answers each one’s rows and row count, in order', async () => {
    const commits: number[] = [];
    events.on('commit', (e) => commits.push(e.durationMs));
    const results = await oneTripTransaction(ds, [
      `INSERT INTO items VALUES (1, 'a', 'new'), (2, 'a', 'new')`,
      `UPDATE items SET state = 'done' WHERE id = 1 RETURNING id, state`,
      `SELECT count(*)::int AS n FROM items`,
    ]);
    expect(results).toEqual([
      { rows: [], rowCount: 2 },
      { rows: [{ id: 1, state: 'done' }], rowCount: 1 },
      { rows: [{ n: 2 }], rowCount: 1 },
    ]);
    expect(commits).toHaveLength(1);
  });

  it('undoes the earlier statements when a later one fails, and the pool stays usable', async () => {
    const rollbacks: RollbackEvent[] = [];
    events.on('rollback', (e) => rollbacks.push(e));
    await expect(
      oneTripTransaction(ds, [
        `INSERT INTO items VALUES (10, 'b', 'new')`,
        `INSERT INTO items VALUES (10, 'b', 'again')`,
      ]),
    ).rejects.toMatchObject({ code: '23505' });
    expect(rollbacks).toEqual([expect.objectContaining({ reason: 'error' })]);
    // Both connections of the pool answer, neither is left in the aborted transaction.
    const answers = await Promise.all(
      [1, 2].map(() => ds.query(`SELECT count(*)::int AS n FROM items WHERE id = 10`)),
    );
    expect(answers).toEqual([[{ n: 0 }], [{ n: 0 }]]);
  });

  it('gives each statement its own snapshot, taken after the lock it waited for', async () => {
    await ds.query(`INSERT INTO items VALUES (20, 'c', 'new')`);
    // Another session holds the row and adds a part; it commits while the trip waits.
    await other.query('BEGIN');
    await other.query(`UPDATE items SET state = 'busy' WHERE id = 20`);
    await other.query(`INSERT INTO parts VALUES (20, 1)`);
    const trip = oneTripTransaction(ds, [
      `SELECT state FROM items WHERE id = 20 FOR UPDATE`,
      `DELETE FROM parts WHERE item_id = 20`,
    ]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await other.query('COMMIT');
    const [locked, deleted] = await trip;
    expect(locked.rows).toEqual([{ state: 'busy' }]);
    // A single statement (a data-modifying CTE) would not see the part committed meanwhile.
    expect(deleted.rowCount).toBe(1);
  });

  it('refuses to run inside withTransaction', async () => {
    await expect(withTransaction(ds, () => oneTripTransaction(ds, [`SELECT 1`]))).rejects.toThrow(
      /inside withTransaction/,
    );
  });
});
