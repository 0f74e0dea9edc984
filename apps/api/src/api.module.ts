import { DynamicModule, MiddlewareConsumer, Module, NestModule, Type } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { QuarryConfig } from '@quarry/config';
import { CoreModule } from '@quarry/core';
import { HttpDrainService } from './common/http-drain.service';
import { HttpMetricsMiddleware } from './common/http-metrics.middleware';
import { ProblemDetailsFilter } from './common/problem-details.filter';
import { HealthController } from './health/health.controller';
import { MetricsController } from './metrics/metrics.controller';

export interface ApiModuleOptions {
  config: QuarryConfig;
  /** extra modules (tests mount probes of their own) */
  extraModules?: Type[];
}

@Module({})
export class ApiModule implements NestModule {
  static register(options: ApiModuleOptions): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        CoreModule.forRoot({
          config: options.config,
          queueRole: 'producer',
          vectorBootstrap: false,
        }),
        ...(options.extraModules ?? []),
      ],
      controllers: [HealthController, MetricsController],
      providers: [
        HttpDrainService,
        HttpMetricsMiddleware,
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpDrainService, HttpMetricsMiddleware).forRoutes('*path');
  }
}
