import { Module } from '@nestjs/common';
import { DocumentsModule } from '@quarry/documents';
import { IntegrityController } from './integrity.controller';

/** GET /v1/admin/integrity and POST /v1/admin/integrity/fix (admin keys only). */
@Module({
  imports: [DocumentsModule],
  controllers: [IntegrityController],
})
export class IntegrityApiModule {}
