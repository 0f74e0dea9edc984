import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import Redis, { RedisOptions } from 'ioredis';

export type RedisRole =
  /** BullMQ Worker / QueueEvents: blocking commands, must retry forever. */
  | 'worker'
  /** The api's producer: fail fast so a Redis outage is a clear error, not a hung request. */
  | 'producer'
  /** Short-lived clients: health checks, CLI. */
  | 'client';

/**
 * Where Redis is: one address (`url`), or a primary found through Sentinel. With
 * sentinels, the URL still gives the scheme (`rediss://` turns TLS on for the sentinels
 * and the primary), the credentials and the database number; its host is not used.
 */
export interface RedisEndpoint {
  /** REDIS_URL: redis://[user:password@]host:port[/db] or rediss:// for TLS */
  url: string;
  /** REDIS_SENTINELS: when given, the primary is asked of these */
  sentinels?: { host: string; port: number }[];
  /** REDIS_SENTINEL_NAME: the monitored primary's name */
  sentinelName?: string;
  /** REDIS_SENTINEL_PASSWORD: when the sentinels themselves require AUTH */
  sentinelPassword?: string;
  /** REDIS_USERNAME / REDIS_PASSWORD: win over the URL's credentials (ACL user, AUTH) */
  username?: string;
  password?: string;
  /** REDIS_TLS_CA_FILE: a private CA for rediss:// */
  tlsCaFile?: string;
}

/** READONLY: this node was a primary and is a replica now (a failover); go find the new one. */
const RECONNECT_AND_RESEND = 2;

/** The connection options every Quarry Redis client shares, whatever its role. */
export function redisOptionsFor(endpoint: RedisEndpoint | string): RedisOptions {
  const target = typeof endpoint === 'string' ? { url: endpoint } : endpoint;
  const url = new URL(target.url);
  const tls: ConnectionOptions | undefined =
    url.protocol === 'rediss:'
      ? { ca: target.tlsCaFile ? readFileSync(target.tlsCaFile) : undefined }
      : undefined;
  const common: RedisOptions = {
    username: target.username ?? (decodeURIComponent(url.username) || undefined),
    password: target.password ?? (decodeURIComponent(url.password) || undefined),
    db: Number(url.pathname.slice(1)) || 0,
    reconnectOnError: (err) => (err.message.startsWith('READONLY') ? RECONNECT_AND_RESEND : false),
  };
  if (target.sentinels && target.sentinels.length > 0) {
    return {
      ...common,
      sentinels: target.sentinels,
      name: target.sentinelName ?? 'mymaster',
      sentinelPassword: target.sentinelPassword,
      // No failoverDetector: its switch announcement can land while a client is already
      // reconnecting after losing the primary, and ioredis then ends that client for good.
      // A failover drops the old primary's clients (or answers READONLY, see above).
      enableTLSForSentinelMode: tls !== undefined,
      sentinelTLS: tls,
      tls,
      sentinelRetryStrategy: (times) => Math.min(times * 200, 2_000),
    };
  }
  return { ...common, host: url.hostname, port: Number(url.port) || 6379, tls };
}

/** An ioredis connection set up the way BullMQ and each role need. */
export function createRedisConnection(
  endpoint: RedisEndpoint | string,
  role: RedisRole,
  name?: string,
): Redis {
  const options: RedisOptions = {
    ...redisOptionsFor(endpoint),
    connectionName: name,
    lazyConnect: false,
    // Reconnect with a capped delay; a dead Redis must not spin the CPU.
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  };
  if (role === 'worker') {
    options.maxRetriesPerRequest = null;
    options.enableReadyCheck = false;
  } else {
    options.maxRetriesPerRequest = 1;
    options.enableOfflineQueue = role === 'client';
    options.connectTimeout = 2_000;
    options.commandTimeout = role === 'producer' ? 3_000 : 2_000;
  }
  const redis = new Redis(options);
  // An unhandled 'error' event would crash the process; reconnects are handled above.
  redis.on('error', () => undefined);
  return redis;
}
