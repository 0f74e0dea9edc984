import { DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ConfigModule, QuarryConfig } from '@quarry/config';
import { DbModule } from '@quarry/db';
import { ObservabilityModule } from '@quarry/observability';
import { QueueModule } from '@quarry/queue';
import { VectorModule } from '@quarry/vector';

export interface CoreModuleOptions {
  config: QuarryConfig;
  /** `producer` for api and cli (fail fast), `worker` for the worker fleet */
  queueRole: 'producer' | 'worker';
  /** wire the Qdrant gateway (default true) */
  vector?: boolean;
  /**
   * Create or check the collection at start (default true). The api uses
   * 'when-available': a dimension mismatch it can see still stops start-up, but a Qdrant
   * that is down does not, because uploads must keep working meanwhile.
   */
  vectorBootstrap?: boolean | 'when-available';
}

/**
 * The outside systems every Quarry process talks to, wired once from the validated
 * configuration: config, logging and metrics, PostgreSQL, Redis queues and Qdrant.
 */
@Module({})
export class CoreModule {
  static forRoot(options: CoreModuleOptions): DynamicModule {
    const { config } = options;
    const appName = config.db.applicationName;
    return {
      module: CoreModule,
      imports: [
        ConfigModule.forRoot({ app: config.app, config }),
        ObservabilityModule.forRoot({
          appName,
          level: config.log.level,
          pretty: config.log.pretty,
          shutdownGraceMs: config.shutdown.graceMs,
        }),
        TerminusModule,
        DbModule.forRoot(config.db),
        QueueModule.forRoot({
          ...config.redis,
          role: options.queueRole,
          ingestMaxAttempts: config.worker.ingestMaxAttempts,
          cleanupMaxAttempts: config.worker.cleanupMaxAttempts,
          connectionName: appName,
        }),
        ...(options.vector === false
          ? []
          : [
              VectorModule.forRoot({
                ...config.qdrant,
                bootstrap: options.vectorBootstrap ?? true,
              }),
            ]),
      ],
      exports: [TerminusModule],
    };
  }
}
