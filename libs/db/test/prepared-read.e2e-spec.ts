import { createDataSource, preparedRead, withTransaction } from '@quarry/db';
import { createTestDatabase, testDbOptions, TestDatabase } from '@quarry/testing';
import { DataSource } from 'typeorm';

describe('preparedRead', () => {
  let db: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase('db_prepared');
    // One connection, so every call below meets the statements prepared by the previous.
    ds = createDataSource(testDbOptions(db.url, { poolMax: 1 }));
    await ds.initialize();
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('answers the rows, with the statement prepared once on the connection and reused', async () => {
    const sql = `SELECT $1::int + 1 AS next /* prepared_once */`;
    await expect(preparedRead(ds, sql, [1])).resolves.toEqual([{ next: 2 }]);
    await expect(preparedRead(ds, sql, [41])).resolves.toEqual([{ next: 42 }]);
    const prepared = await preparedRead<{ executions: number }>(
      ds,
      `SELECT (generic_plans + custom_plans)::int AS executions
         FROM pg_prepared_statements WHERE statement = $1 AND NOT from_sql`,
      [sql],
    );
    expect(prepared).toEqual([{ executions: 2 }]);
  });

  it('joins the surrounding transaction and sees its uncommitted writes', async () => {
    await ds.query(`CREATE TABLE notes (id int PRIMARY KEY, body text)`);
    const seen = await withTransaction(ds, async (m) => {
      await m.query(`INSERT INTO notes VALUES (1, 'draft')`);
      return preparedRead<{ body: string }>(ds, `SELECT body FROM notes WHERE id = $1`, [1]);
    });
    expect(seen).toEqual([{ body: 'draft' }]);
    const [{ n }] = await preparedRead<{ n: number }>(ds, `SELECT count(*)::int AS n FROM notes`);
    expect(n).toBe(1);
  });

  it('still answers after a schema change altered the result type under a prepared statement', async () => {
    await ds.query(`CREATE TABLE shapes (id int PRIMARY KEY, size int)`);
    await ds.query(`INSERT INTO shapes VALUES (1, 7)`);
    const sql = `SELECT * FROM shapes WHERE id = $1`;
    await expect(preparedRead(ds, sql, [1])).resolves.toEqual([{ id: 1, size: 7 }]);
    await ds.query(`ALTER TABLE shapes ALTER COLUMN size TYPE text`);
    // PostgreSQL refuses the old plan (0A000) on this connection; the read runs unnamed.
    await expect(preparedRead(ds, sql, [1])).resolves.toEqual([{ id: 1, size: '7' }]);
    await expect(preparedRead(ds, sql, [1])).resolves.toEqual([{ id: 1, size: '7' }]);
  });
});
