import {
  Body,
  Controller,
  Delete,
  Get,
  HttpStatus,
  Param,
  ParseBoolPipe,
  Patch,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import {
  CollectionsService,
  DocumentsService,
  DomainError,
  Principal as AuthPrincipal,
} from '@quarry/documents';
import type { Response } from 'express';
import { Principal } from '../auth/principal.decorator';
import { ResourceIdPipe } from '../common/resource-id.pipe';
import {
  CollectionCascadeDto,
  CollectionDto,
  CollectionListDto,
  CreateCollectionDto,
  UpdateCollectionDto,
  toCollectionDto,
} from './collection.dto';

const CollectionId = () => new ResourceIdPipe('collection');

@ApiTags('collections')
@ApiBearerAuth()
@Controller('v1/collections')
export class CollectionsController {
  constructor(
    private readonly collections: CollectionsService,
    private readonly documents: DocumentsService,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Create a collection' })
  @ApiCreatedResponse({ type: CollectionDto })
  async create(
    @Principal() principal: AuthPrincipal,
    @Body() body: CreateCollectionDto,
  ): Promise<CollectionDto> {
    return toCollectionDto(await this.collections.create(principal.ownerId, body));
  }

  @Get()
  @ApiOperation({ summary: "List the caller's collections, oldest first" })
  @ApiOkResponse({ type: CollectionListDto })
  async list(@Principal() principal: AuthPrincipal): Promise<CollectionListDto> {
    const items = await this.collections.list(principal.ownerId);
    return { items: items.map(toCollectionDto) };
  }

  @Get(':id')
  @ApiOkResponse({ type: CollectionDto })
  @ApiNotFoundResponse({ description: 'unknown, or owned by someone else' })
  async get(
    @Principal() principal: AuthPrincipal,
    @Param('id', CollectionId()) id: string,
  ): Promise<CollectionDto> {
    return toCollectionDto(await this.collections.get(principal.ownerId, id));
  }

  @Patch(':id')
  @ApiOkResponse({ type: CollectionDto })
  @ApiNotFoundResponse({ description: 'unknown, or owned by someone else' })
  async update(
    @Principal() principal: AuthPrincipal,
    @Param('id', CollectionId()) id: string,
    @Body() body: UpdateCollectionDto,
  ): Promise<CollectionDto> {
    return toCollectionDto(await this.collections.update(principal.ownerId, id, body));
  }

  @Delete(':id')
  @ApiOperation({
    summary: 'Delete a collection',
    description:
      'Without `cascade` a collection that still holds documents is refused with 409 and ' +
      'the number of documents. With `cascade=true` every document in it is marked for ' +
      'deletion at once (they leave listings and search immediately) and cleanup runs in ' +
      'the background; the answer is then 202 and the collection itself stays until ' +
      'its documents are cleaned up. Repeat the DELETE afterwards to remove it: it answers ' +
      '204 once cleanup has finished, 409 while documents are still being removed.',
  })
  @ApiQuery({ name: 'cascade', required: false, type: Boolean })
  @ApiNoContentResponse({ description: 'the collection is gone' })
  @ApiAcceptedResponse({ type: CollectionCascadeDto, description: 'cascade: documents queued' })
  @ApiConflictResponse({ description: 'the collection still holds documents' })
  @ApiNotFoundResponse({ description: 'unknown, or owned by someone else' })
  async remove(
    @Principal() principal: AuthPrincipal,
    @Param('id', CollectionId()) id: string,
    @Query('cascade', new ParseBoolPipe({ optional: true })) cascade: boolean | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CollectionCascadeDto | undefined> {
    if (!cascade) {
      await this.collections.remove(principal.ownerId, id);
      res.status(HttpStatus.NO_CONTENT);
      return undefined;
    }
    await this.collections.get(principal.ownerId, id);
    const { count } = await this.documents.deleteMany(principal.ownerId, { collectionId: id });
    try {
      await this.collections.remove(principal.ownerId, id);
      res.status(HttpStatus.NO_CONTENT);
      return undefined;
    } catch (err) {
      if (!(err instanceof DomainError && err.kind === 'conflict')) throw err;
    }
    res.status(HttpStatus.ACCEPTED);
    return { deleted_documents: count, collection_id: id, collection_deleted: false };
  }
}
