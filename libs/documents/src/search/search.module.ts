import { DynamicModule, Module } from '@nestjs/common';
import { DocumentsModule } from '../documents.module';
import { SEARCH_OPTIONS, SearchOptions } from './search.types';
import { SearchService } from './search.service';

/**
 * Search over what the documents domain has indexed. Expects CoreModule (db, vector)
 * from the app, like DocumentsModule. `forRoot` tunes fusion and fetching.
 */
@Module({
  imports: [DocumentsModule],
  providers: [SearchService],
  exports: [SearchService],
})
export class SearchModule {
  static forRoot(options: Partial<SearchOptions> = {}): DynamicModule {
    return {
      module: SearchModule,
      imports: [DocumentsModule],
      providers: [{ provide: SEARCH_OPTIONS, useValue: options }, SearchService],
      exports: [SearchService],
    };
  }
}
