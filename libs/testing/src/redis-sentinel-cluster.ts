import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { freePort } from './free-port';

const HOST = '127.0.0.1';

/**
 * A primary, a replica and three sentinels from the machine's `redis-server` and
 * `redis-sentinel` (Debian packages), on spare ports, in a temporary directory; nothing
 * is kept on disk past `stop()`. For tests of a failover under load.
 */
export class RedisSentinelCluster {
  readonly masterName = 'quarry-test';
  private readonly children: ChildProcess[] = [];
  private readonly servers = new Map<number, ChildProcess>();

  private constructor(
    private readonly dir: string,
    readonly redisPorts: number[],
    readonly sentinelPorts: number[],
  ) {}

  static async start(): Promise<RedisSentinelCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'quarry-sentinel-'));
    const redisPorts = [await freePort(), await freePort()];
    const sentinelPorts = [await freePort(), await freePort(), await freePort()];
    const cluster = new RedisSentinelCluster(dir, redisPorts, sentinelPorts);
    try {
      const [primary, replica] = redisPorts;
      cluster.servers.set(
        primary,
        await cluster.spawnReady('redis-server', cluster.redisArgs(primary)),
      );
      cluster.servers.set(
        replica,
        await cluster.spawnReady('redis-server', [
          ...cluster.redisArgs(replica),
          '--replicaof',
          HOST,
          String(primary),
        ]),
      );
      await cluster.waitFor('the replica to sync', async () => {
        const info = await cluster.command(replica, (r) => r.info('replication'));
        return /master_link_status:up/.test(info);
      });
      for (const port of sentinelPorts) {
        // Sentinel rewrites its configuration file, so each gets one of its own.
        const conf = join(dir, `sentinel-${port}.conf`);
        writeFileSync(
          conf,
          [
            `port ${port}`,
            `bind ${HOST}`,
            `dir ${dir}`,
            `sentinel monitor ${cluster.masterName} ${HOST} ${primary} 2`,
            `sentinel down-after-milliseconds ${cluster.masterName} 1000`,
            `sentinel failover-timeout ${cluster.masterName} 5000`,
            `sentinel parallel-syncs ${cluster.masterName} 1`,
            '',
          ].join('\n'),
        );
        await cluster.spawnReady('redis-sentinel', [conf]);
      }
      // A forced failover needs every sentinel to know the replica already.
      await cluster.waitFor('the sentinels to see the replica', async () => {
        const counts = await Promise.all(
          sentinelPorts.map((port) =>
            cluster.command(port, (r) => r.call('SENTINEL', 'REPLICAS', cluster.masterName)),
          ),
        );
        return counts.every((replicas) => Array.isArray(replicas) && replicas.length === 1);
      });
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** For REDIS_SENTINELS. */
  get sentinels(): string {
    return this.sentinelPorts.map((port) => `${HOST}:${port}`).join(',');
  }

  /** The port the sentinels currently name as primary. */
  async primaryPort(): Promise<number> {
    const [, port] = (await this.command(this.sentinelPorts[0], (r) =>
      r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.masterName),
    )) as [string, string];
    return Number(port);
  }

  /**
   * SENTINEL FAILOVER, then waits until the other server is the primary, answers writes,
   * and every sentinel says so. Returns the new primary's port.
   */
  async failover(): Promise<number> {
    const after = this.otherThan(await this.primaryPort());
    // Right after a failover the demoted server is not yet a replica the sentinels would
    // promote (NOGOODSLAVE): ask again until one accepts.
    await this.waitFor('a sentinel to accept the failover', async () => {
      await this.command(this.sentinelPorts[0], (r) =>
        r.call('SENTINEL', 'FAILOVER', this.masterName),
      );
      return true;
    });
    await this.promoted(after);
    return after;
  }

  /**
   * SIGKILL of the primary: the sentinels must notice it down (after 1 s), agree, and
   * promote the replica on their own. Returns the new primary's port.
   */
  async killPrimary(): Promise<number> {
    const before = await this.primaryPort();
    const after = this.otherThan(before);
    const child = this.servers.get(before);
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    await this.promoted(after);
    return after;
  }

  private otherThan(port: number): number {
    return this.redisPorts.find((p) => p !== port) as number;
  }

  /** Waits until `port` is a primary and every sentinel names it. */
  private async promoted(port: number): Promise<void> {
    await this.waitFor(`${port} to become the primary`, async () => {
      const role = await this.command(port, (r) => r.call('ROLE'));
      const named = await Promise.all(
        this.sentinelPorts.map((sentinel) =>
          this.command(sentinel, (r) =>
            r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.masterName),
          ),
        ),
      );
      return (
        Array.isArray(role) &&
        role[0] === 'master' &&
        named.every((addr) => Array.isArray(addr) && Number(addr[1]) === port)
      );
    });
  }

  /** Keys under a prefix on the current primary. */
  async countKeys(prefix: string): Promise<number> {
    const port = await this.primaryPort();
    return this.command(port, async (r) => (await r.keys(`${prefix}:*`)).length);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }

  private redisArgs(port: number): string[] {
    return [
      '--port',
      String(port),
      '--bind',
      HOST,
      '--dir',
      this.dir,
      '--dbfilename',
      `dump-${port}.rdb`,
      '--save',
      '',
      '--appendonly',
      'no',
    ];
  }

  private async spawnReady(binary: string, args: string[]): Promise<ChildProcess> {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.push(child);
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`${binary} not ready: ${out}`)), 10_000);
      const onData = (chunk: Buffer): void => {
        out += chunk.toString();
        if (/Ready to accept connections|Sentinel ID is/.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${binary} exited (${code}): ${out}`));
      });
    });
    child.stdout?.resume();
    child.stderr?.resume();
    return child;
  }

  private async command<T>(port: number, fn: (redis: Redis) => Promise<T>): Promise<T> {
    const redis = new Redis({ host: HOST, port, maxRetriesPerRequest: 1, lazyConnect: true });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      return await fn(redis);
    } finally {
      redis.disconnect();
    }
  }

  private async waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (!(await check().catch(() => false))) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
