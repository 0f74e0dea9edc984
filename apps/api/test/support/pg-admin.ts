import { testDatabaseAdminUrl } from '@quarry/testing';
import { Client } from 'pg';

export const API_APPLICATION_NAME = 'quarry-api';

/**
 * A separate superuser connection that watches and disturbs the api's sessions the way an
 * operator (or a failover) would, through pg_stat_activity and pg_terminate_backend.
 */
export class PgAdmin {
  private constructor(private readonly client: Client) {}

  static async connect(): Promise<PgAdmin> {
    const client = new Client({
      connectionString: testDatabaseAdminUrl(),
      application_name: 'quarry-test-admin',
      connectionTimeoutMillis: 5_000,
    });
    client.on('error', () => undefined);
    await client.connect();
    return new PgAdmin(client);
  }

  /** Sessions of one application on one database (every state). */
  async connections(database: string, applicationName = API_APPLICATION_NAME): Promise<number> {
    const { rows } = await this.client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = $1 AND application_name = $2`,
      [database, applicationName],
    );
    return rows[0].n;
  }

  /** Sessions of the api currently running a pg_sleep: requests that hold a connection. */
  async sleepers(database: string, applicationName = API_APPLICATION_NAME): Promise<number> {
    const { rows } = await this.client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = $1 AND application_name = $2
          AND state = 'active' AND query ILIKE '%pg_sleep%'`,
      [database, applicationName],
    );
    return rows[0].n;
  }

  /** Ends every session of the application on the database; returns how many were ended. */
  async terminate(database: string, applicationName = API_APPLICATION_NAME): Promise<number> {
    const { rows } = await this.client.query<{ ok: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
        WHERE datname = $1 AND application_name = $2`,
      [database, applicationName],
    );
    return rows.filter((r) => r.ok).length;
  }

  async query<R extends Record<string, unknown>>(
    database: string,
    sql: string,
    params: unknown[] = [],
  ): Promise<R[]> {
    const url = new URL(testDatabaseAdminUrl());
    url.pathname = `/${database}`;
    const client = new Client({
      connectionString: url.toString(),
      application_name: 'quarry-test-admin',
    });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return (await client.query<R>(sql, params)).rows;
    } finally {
      await client.end();
    }
  }

  /** Polls until `read` returns a value accepted by `done`, or the deadline passes. */
  async waitFor<T>(
    read: () => Promise<T>,
    done: (value: T) => boolean,
    timeoutMs = 5_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let value = await read();
    while (!done(value) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      value = await read();
    }
    return value;
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}
