import { Module } from '@nestjs/common';
import { OperationsModule } from '@quarry/documents';
import { OperationsController } from './operations.controller';

/**
 * GET /v1/admin/jobs, POST /v1/admin/queues/pause|resume and
 * POST /v1/admin/jobs/reset-stuck (admin keys only).
 */
@Module({
  imports: [OperationsModule],
  controllers: [OperationsController],
})
export class OperationsApiModule {}
