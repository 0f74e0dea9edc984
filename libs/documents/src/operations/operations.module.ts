import { Module } from '@nestjs/common';
import { DocumentsModule } from '../documents.module';
import { BackupService } from './backup.service';
import { OrphanCleanerService } from './orphan-cleaner.service';
import { QueueControlService } from './queue-control.service';
import { ReindexService } from './reindex.service';
import { ResetService } from './reset.service';

/**
 * The operator's services, shared by the cli and the admin api. Like DocumentsModule it
 * expects CoreModule (config, db, queue, vector) to be imported by the app.
 */
@Module({
  imports: [DocumentsModule],
  providers: [
    QueueControlService,
    ResetService,
    ReindexService,
    BackupService,
    OrphanCleanerService,
  ],
  exports: [
    DocumentsModule,
    QueueControlService,
    ResetService,
    ReindexService,
    BackupService,
    OrphanCleanerService,
  ],
})
export class OperationsModule {}
