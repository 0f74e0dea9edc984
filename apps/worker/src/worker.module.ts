import { DynamicModule, Module, Provider, Type } from '@nestjs/common';
import { QuarryConfig } from '@quarry/config';
import { CoreModule } from '@quarry/core';
import { WorkerHttpServer } from './http/worker-http.server';
import { StateMetricsCollector } from './metrics/state-metrics.collector';
import { QUEUE_PROCESSORS, QueueProcessor } from './queues/queue-processor';
import { WorkerRunnerService } from './queues/worker-runner.service';

export interface WorkerModuleOptions {
  config: QuarryConfig;
  processors: Type<QueueProcessor>[];
  imports?: DynamicModule['imports'];
  providers?: Provider[];
}

@Module({})
export class WorkerModule {
  static register(options: WorkerModuleOptions): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        CoreModule.forRoot({ config: options.config, queueRole: 'worker' }),
        ...(options.imports ?? []),
      ],
      providers: [
        ...options.processors,
        ...(options.providers ?? []),
        {
          provide: QUEUE_PROCESSORS,
          inject: options.processors,
          useFactory: (...processors: QueueProcessor[]) => processors,
        },
        WorkerRunnerService,
        WorkerHttpServer,
        StateMetricsCollector,
      ],
      exports: [WorkerRunnerService, WorkerHttpServer],
    };
  }
}
