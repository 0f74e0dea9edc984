import { ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from './free-port';
import { testDatabaseAdminUrl } from './database';

const BINARY = process.env.PGBOUNCER_BIN ?? '/usr/sbin/pgbouncer';

/** What PgBouncer's admin console reports for one database (SHOW STATS). */
export interface PgBouncerStats {
  /** transactions it passed to PostgreSQL */
  transactions: number;
  /** statements it passed to PostgreSQL */
  queries: number;
}

/**
 * The machine's PgBouncer (Debian package) in `pool_mode=transaction` in front of the
 * test PostgreSQL, on a spare port, with trust authentication; every database name is
 * passed through. Its files live in a temporary directory removed by `stop()`.
 */
export class PgBouncer {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly port: number,
  ) {}

  static async start(options: { poolSize?: number } = {}): Promise<PgBouncer> {
    const upstream = new URL(testDatabaseAdminUrl());
    const user = decodeURIComponent(upstream.username) || 'postgres';
    const dir = mkdtempSync(join(tmpdir(), 'quarry-pgbouncer-'));
    // PgBouncer refuses to run as root; it then runs as the database's OS user.
    chmodSync(dir, 0o777);
    const port = await freePort();
    writeFileSync(join(dir, 'userlist.txt'), `"${user}" ""\n`);
    writeFileSync(
      join(dir, 'pgbouncer.ini'),
      [
        '[databases]',
        `* = host=${upstream.hostname} port=${upstream.port || 5432}`,
        '[pgbouncer]',
        'listen_addr = 127.0.0.1',
        `listen_port = ${port}`,
        'unix_socket_dir =',
        'auth_type = trust',
        `auth_file = ${join(dir, 'userlist.txt')}`,
        `admin_users = ${user}`,
        'pool_mode = transaction',
        `default_pool_size = ${options.poolSize ?? 10}`,
        'max_client_conn = 1000',
        'server_reset_query =',
        '',
      ].join('\n'),
    );
    const asRoot = process.getuid?.() === 0;
    const child = spawn(
      BINARY,
      [...(asRoot ? ['-u', 'postgres'] : []), join(dir, 'pgbouncer.ini')],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const bouncer = new PgBouncer(child, dir, port);
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`pgbouncer not ready: ${out}`)), 10_000);
        const onData = (chunk: Buffer): void => {
          out += chunk.toString();
          if (/process up/.test(out)) {
            clearTimeout(timer);
            resolve();
          }
        };
        child.stdout?.on('data', onData);
        child.stderr?.on('data', onData);
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`pgbouncer exited (${code}): ${out}`));
        });
      });
    } catch (err) {
      await bouncer.stop();
      throw err;
    }
    child.stdout?.resume();
    child.stderr?.resume();
    return bouncer;
  }

  /** The same database as `directUrl`, through PgBouncer. */
  urlFor(directUrl: string): string {
    const url = new URL(directUrl);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  /** Counters of one database from the admin console. */
  async stats(database: string): Promise<PgBouncerStats> {
    const console = new URL(this.urlFor(testDatabaseAdminUrl()));
    console.pathname = '/pgbouncer';
    const admin = new Client({ connectionString: console.toString() });
    admin.on('error', () => undefined);
    await admin.connect();
    try {
      const { rows } = await admin.query('SHOW STATS');
      const row = (rows as Record<string, string>[]).find((r) => r.database === database);
      return {
        transactions: Number(row?.total_xact_count ?? 0),
        queries: Number(row?.total_query_count ?? 0),
      };
    } finally {
      await admin.end().catch(() => undefined);
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGKILL');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
