import { Module } from '@nestjs/common';
import { QuarryConfig } from '@quarry/config';
import { PipelineModule } from '@quarry/pipeline';
import { ApiKeysService } from './api-keys.service';
import { CollectionsService } from './collections.service';
import { DocumentEventsService } from './document-events.service';
import { DocumentsService } from './documents.service';
import { IngestService } from './ingest.service';
import { CleanupService } from './cleanup.service';
import { ReconcilerService } from './reconciler.service';
import { IntegrityService } from './integrity.service';

const SERVICES = [
  ApiKeysService,
  CleanupService,
  CollectionsService,
  DocumentsService,
  DocumentEventsService,
  IngestService,
  ReconcilerService,
  IntegrityService,
];

/**
 * The domain, shared by api, worker and cli. Expects CoreModule (config, db, queue,
 * vector, observability) to be imported by the app.
 */
@Module({
  imports: [
    PipelineModule.forRootAsync({
      inject: [QuarryConfig],
      useFactory: (config: QuarryConfig) => ({
        chunking: config.chunking,
        extraction: config.extraction,
        embedding: config.embedding,
      }),
    }),
  ],
  providers: [...SERVICES],
  exports: [PipelineModule, ...SERVICES],
})
export class DocumentsModule {}
