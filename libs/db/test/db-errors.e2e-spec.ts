import {
  classifyDbError,
  isInvalidValue,
  ConnectionLostError,
  createDataSource,
  isConnectionLost,
  PoolExhaustedError,
  toDbError,
} from '@quarry/db';
import { createTestDatabase, testDbOptions, TestDatabase } from '@quarry/testing';
import { createServer } from 'node:net';
import { Client, Pool } from 'pg';
import { DataSource } from 'typeorm';

const failure = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );

/** The classifier is checked against errors the real driver produces, not hand-made ones. */
describe('classifyDbError on real driver errors', () => {
  let db: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase('db_errors');
    ds = createDataSource(
      testDbOptions(db.url, { applicationName: `quarry-errors-${process.pid}` }),
    );
    await ds.initialize();
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('a constraint violation (QueryFailedError 23505) is a constraint error and stays as it is', async () => {
    await ds.query(`INSERT INTO api_keys (owner_id, key_hash, name) VALUES ('o', 'dup', 'a')`);
    const err = await failure(
      ds.query(`INSERT INTO api_keys (owner_id, key_hash, name) VALUES ('o', 'dup', 'b')`),
    );
    expect(classifyDbError(err)).toEqual({ kind: 'constraint', code: '23505', retryable: false });
    expect(toDbError(err)).toBe(err);
    expect(isConnectionLost(err)).toBe(false);
  });

  it('a statement cancelled by statement_timeout (57014) is a statement timeout', async () => {
    const err = await failure(
      ds.transaction(async (m) => {
        await m.query(`SET LOCAL statement_timeout = 50`);
        await m.query(`SELECT pg_sleep(1)`);
      }),
    );
    expect(classifyDbError(err)).toMatchObject({ kind: 'statement-timeout', code: '57014' });
  });

  it('a terminated backend (57P01) during a query is a lost connection', async () => {
    const client = new Client({ connectionString: db.url });
    client.on('error', () => undefined);
    await client.connect();
    const pid = (await client.query(`SELECT pg_backend_pid() AS pid`)).rows[0].pid as number;
    const running = failure(client.query(`SELECT pg_sleep(5)`));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await ds.query(`SELECT pg_terminate_backend($1)`, [pid]);
    const err = await running;
    expect(classifyDbError(err)).toEqual({
      kind: 'connection-lost',
      code: '57P01',
      retryable: true,
    });
    expect(toDbError(err)).toBeInstanceOf(ConnectionLostError);
    expect(isConnectionLost(err)).toBe(true);

    // ...and the next statement on that dead client fails with a code-less message
    const after = await failure(client.query(`SELECT 1`));
    expect(classifyDbError(after)).toMatchObject({ kind: 'connection-lost', retryable: true });
    await client.end().catch(() => undefined);
  });

  it('a refused connection (ECONNREFUSED) is a connection error', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const address = probe.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    await new Promise((resolve) => probe.close(resolve));
    const client = new Client({
      connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`,
    });
    const err = await failure(client.connect());
    expect(classifyDbError(err)).toMatchObject({ kind: 'connection-lost', code: 'ECONNREFUSED' });
  });

  it("pg-pool's acquire timeout is pool exhaustion", async () => {
    const pool = new Pool({ connectionString: db.url, max: 1, connectionTimeoutMillis: 100 });
    const held = await pool.connect();
    try {
      const err = await failure(pool.connect());
      expect(classifyDbError(err)).toMatchObject({ kind: 'pool-exhausted', retryable: false });
      const typed = toDbError(err, { pool: 'primary', acquireTimeoutMs: 100 });
      expect(typed).toBeInstanceOf(PoolExhaustedError);
      expect((typed as PoolExhaustedError).retryAfterSeconds).toBe(1);
    } finally {
      held.release();
      await pool.end();
    }
  });

  it('programming errors are not mistaken for connection problems', async () => {
    const runner = ds.createQueryRunner();
    await runner.release();
    const released = await failure(runner.query(`SELECT 1`));
    expect(classifyDbError(released).kind).toBe('other');
    const syntax = await failure(ds.query(`SELEC 1`));
    expect(classifyDbError(syntax)).toEqual({ kind: 'other', code: '42601', retryable: false });
  });

  it("values PostgreSQL cannot hold are the request's fault, not the database's", async () => {
    const cases: Array<[string, unknown[]]> = [
      ['SELECT $1::text', ['a\u0000b']],
      ['SELECT $1::jsonb', ['{"k":"\\u0000"}']],
      ['SELECT $1::jsonb', ['{"k":"\\ud800"}']],
      ['SELECT $1::int4', ['99999999999']],
      ['SELECT $1::uuid', ['not-a-uuid']],
    ];
    for (const [sql, params] of cases) {
      const err = await failure(ds.query(sql, params));
      expect({ sql, ...classifyDbError(err) }).toMatchObject({
        sql,
        kind: 'invalid-value',
        retryable: false,
      });
      expect(isInvalidValue(err)).toBe(true);
    }
  });
});
