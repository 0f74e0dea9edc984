import { DynamicModule, Global, Module, ModuleMetadata } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ShutdownCoordinator, ShutdownPhase } from '@quarry/observability';
import { Queue } from 'bullmq';
import type Redis from 'ioredis';
import { ALL_QUEUES, QueueName } from './job-catalogue';
import { JobQueueService } from './job-queue.service';
import { QueueHealthIndicator } from './queue.health';
import { CLIENT_REDIS, QUEUE_MODULE_OPTIONS, QUEUE_REDIS } from './queue.tokens';
import { createRedisConnection, RedisEndpoint } from './redis-connection.factory';

/** The Redis endpoint (one URL, or Sentinel) plus the queues' own settings. */
export interface QueueModuleOptions extends RedisEndpoint {
  /** Redis key prefix for every queue (keys look like `<prefix>:ingest:wait`). */
  prefix: string;
  /** `producer` for the api and CLI (fail fast), `worker` for the worker fleet. */
  role: 'producer' | 'worker';
  ingestMaxAttempts: number;
  cleanupMaxAttempts: number;
  /** A name for CLIENT LIST, e.g. quarry-api. */
  connectionName?: string;
}

export interface QueueModuleAsyncOptions {
  imports?: ModuleMetadata['imports'];
  inject?: (string | symbol | (abstract new (...args: never[]) => unknown))[];
  useFactory: (...args: never[]) => QueueModuleOptions | Promise<QueueModuleOptions>;
}

@Global()
@Module({})
export class QueueModule {
  static forRoot(options: QueueModuleOptions): DynamicModule {
    return QueueModule.forRootAsync({ useFactory: () => options });
  }

  static forRootAsync(async: QueueModuleAsyncOptions): DynamicModule {
    return {
      module: QueueModule,
      imports: [TerminusModule, ...(async.imports ?? [])],
      providers: [
        { provide: QUEUE_MODULE_OPTIONS, inject: async.inject ?? [], useFactory: async.useFactory },
        {
          provide: QUEUE_REDIS,
          inject: [QUEUE_MODULE_OPTIONS, ShutdownCoordinator],
          useFactory: (o: QueueModuleOptions, shutdown: ShutdownCoordinator) => {
            const redis = createRedisConnection(
              o,
              o.role === 'worker' ? 'worker' : 'producer',
              o.connectionName,
            );
            shutdown.register({
              name: 'redis (queues)',
              phase: ShutdownPhase.Redis,
              close: () => quit(redis),
            });
            return redis;
          },
        },
        {
          provide: CLIENT_REDIS,
          inject: [QUEUE_MODULE_OPTIONS, ShutdownCoordinator],
          useFactory: (o: QueueModuleOptions, shutdown: ShutdownCoordinator) => {
            const redis = createRedisConnection(
              o,
              'client',
              o.connectionName && `${o.connectionName}-client`,
            );
            shutdown.register({
              name: 'redis (client)',
              phase: ShutdownPhase.Redis,
              close: () => quit(redis),
            });
            return redis;
          },
        },
        {
          provide: JobQueueService,
          inject: [QUEUE_MODULE_OPTIONS, QUEUE_REDIS, ShutdownCoordinator],
          useFactory: (o: QueueModuleOptions, redis: Redis, shutdown: ShutdownCoordinator) => {
            const queues = new Map<QueueName, Queue>(
              ALL_QUEUES.map((name) => [
                name,
                new Queue(name, { connection: redis, prefix: o.prefix }),
              ]),
            );
            for (const queue of queues.values()) queue.on('error', () => undefined);
            shutdown.register({
              name: 'queues',
              phase: ShutdownPhase.Queues,
              close: async () => {
                await Promise.all([...queues.values()].map((q) => q.close()));
              },
            });
            return new JobQueueService(queues, o);
          },
        },
        QueueHealthIndicator,
      ],
      exports: [
        QUEUE_MODULE_OPTIONS,
        QUEUE_REDIS,
        CLIENT_REDIS,
        JobQueueService,
        QueueHealthIndicator,
      ],
    };
  }
}

async function quit(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status !== 'ready') {
    // Not connected: QUIT would wait for a connection that may never come.
    redis.disconnect();
    return;
  }
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
