import {
  Body,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  Query,
  SetMetadata,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import {
  Principal as AuthPrincipal,
  SearchRequest,
  SearchResponse,
  SearchService,
  SimilarDocumentsResponse,
} from '@quarry/documents';
import { Principal } from '../auth/principal.decorator';
import { IS_PUBLIC } from '../auth/public.decorator';
import { ResourceIdPipe } from '../common/resource-id.pipe';
import { SearchRequestDto, SimilarQueryDto } from './search-request.dto';
import { SearchResponseDto, SimilarDocumentsResponseDto } from './search-response.dto';

// Stated explicitly: search reads an owner's data and always needs a key, however
// the module is mounted (modules mounted as extras are public unless they say so).
@SetMetadata(IS_PUBLIC, false)
@ApiTags('search')
@ApiBearerAuth()
@Controller('v1')
export class SearchController {
  constructor(private readonly searchService: SearchService) {}

  @Post('search')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Search the chunks of your completed documents',
    description:
      'semantic: nearest chunks by embedding; keyword: full-text and trigram matching ' +
      '(Korean words with particles find their stem); hybrid (default): reciprocal rank ' +
      'fusion of both. Only documents that are completed at their current generation ' +
      'answer. Page with next_cursor.',
  })
  @ApiBody({ type: SearchRequestDto })
  @ApiOkResponse({ type: SearchResponseDto })
  @ApiBadRequestResponse({ description: 'problem+json naming the invalid field' })
  search(
    @Principal() principal: AuthPrincipal,
    // Not typed as the DTO on purpose: the global ValidationPipe then leaves the body
    // alone, and validateSearch (the domain's check, the same for every caller) is the
    // one validation, instead of class-transformer and class-validator running first
    // over the same fields. The DTO still documents the body.
    @Body() body: SearchRequest,
  ): Promise<SearchResponse> {
    return this.searchService.search(principal.ownerId, body);
  }

  @Get('documents/:id/similar')
  @ApiOperation({ summary: 'Documents nearest to this one' })
  @ApiOkResponse({ type: SimilarDocumentsResponseDto })
  @ApiNotFoundResponse({ description: 'no completed document of yours has this id' })
  similar(
    @Principal() principal: AuthPrincipal,
    @Param('id', new ResourceIdPipe('document')) id: string,
    @Query() query: SimilarQueryDto,
  ): Promise<SimilarDocumentsResponse> {
    return this.searchService.similarDocuments(principal.ownerId, id, { limit: query.limit });
  }
}
