import { DynamicModule } from '@nestjs/common';
import { QuarryConfig } from '@quarry/config';
import { DocumentsModule } from '@quarry/documents';
import { MaintenanceScheduler } from './processors/maintenance.scheduler';
import { CleanupProcessor } from './processors/cleanup.processor';
import { IngestProcessor } from './processors/ingest.processor';
import { MaintenanceProcessor } from './processors/maintenance.processor';
import { WorkerModule } from './worker.module';

/** The worker as it runs in production: one processor per queue, over the domain. */
export function workerModuleFor(config: QuarryConfig): DynamicModule {
  return WorkerModule.register({
    config,
    imports: [DocumentsModule],
    processors: [IngestProcessor, CleanupProcessor, MaintenanceProcessor],
    providers: [MaintenanceScheduler],
  });
}
