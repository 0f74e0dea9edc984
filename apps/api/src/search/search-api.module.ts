import { Module } from '@nestjs/common';
import { SearchModule } from '@quarry/documents';
import { SearchController } from './search.controller';

/** POST /v1/search and GET /v1/documents/:id/similar. */
@Module({
  imports: [SearchModule],
  controllers: [SearchController],
})
export class SearchApiModule {}
