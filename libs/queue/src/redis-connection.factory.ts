import Redis, { RedisOptions } from 'ioredis';

export type RedisRole =
  /** BullMQ Worker / QueueEvents: blocking commands, must retry forever. */
  | 'worker'
  /** The api's producer: fail fast so a Redis outage is a clear error, not a hung request. */
  | 'producer'
  /** Short-lived clients: health checks, CLI. */
  | 'client';

/** An ioredis connection set up the way BullMQ and each role need. */
export function createRedisConnection(url: string, role: RedisRole, name?: string): Redis {
  const options: RedisOptions = {
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
  const redis = new Redis(url, options);
  // An unhandled 'error' event would crash the process; reconnects are handled above.
  redis.on('error', () => undefined);
  return redis;
}
