import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  Query,
  Req,
  Res,
  UploadedFile,
  UseInterceptors,
} from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiProduces,
  ApiTags,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import {
  badInput,
  DocumentsService,
  Principal as AuthPrincipal,
  UploadResult,
} from '@quarry/documents';
import type { Request, Response } from 'express';
import { readFile } from 'node:fs/promises';
import { Principal } from '../auth/principal.decorator';
import { ResourceIdPipe } from '../common/resource-id.pipe';
import { contentDisposition } from './content-disposition';
import { DocumentEventStreamService } from './document-event-stream.service';
import {
  ChunkPageDto,
  DeleteAcceptedDto,
  DeleteManyAcceptedDto,
  DocumentDto,
  DocumentPageDto,
  DocumentStatusDto,
  ReprocessAcceptedDto,
  UploadAcceptedDto,
} from './document.dto';
import {
  ChunksQueryDto,
  DeleteManyDto,
  ListDocumentsQueryDto,
  UploadFileFieldsDto,
  UploadQueryDto,
  UploadTextDto,
} from './document-requests.dto';

const DocumentId = () => new ResourceIdPipe('document');
const statusUrl = (id: string) => `/v1/documents/${id}/status`;

@ApiTags('documents')
@ApiBearerAuth()
@Controller('v1/documents')
export class DocumentsController {
  constructor(
    private readonly documents: DocumentsService,
    private readonly streams: DocumentEventStreamService,
  ) {}

  @Post()
  @UseInterceptors(FileInterceptor('file'))
  @ApiOperation({
    summary: 'Upload a file',
    description:
      'Stores the file and answers at once; a worker extracts, chunks, embeds and indexes ' +
      'it. The type is sniffed from the content: PDF, DOCX, HTML, Markdown, plain text. ' +
      'The same content in the same collection answers 200 with the existing document ' +
      'unless `force=true`.',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['file', 'collection_id'],
      properties: {
        file: { type: 'string', format: 'binary' },
        collection_id: { type: 'string', format: 'uuid' },
        metadata: { type: 'string', description: 'a JSON object' },
      },
    },
  })
  @ApiAcceptedResponse({ type: UploadAcceptedDto, description: 'stored; ingest queued' })
  @ApiOkResponse({ type: UploadAcceptedDto, description: 'duplicate: the existing document' })
  @ApiNotFoundResponse({ description: 'unknown or foreign collection' })
  @ApiPayloadTooLargeResponse({ description: 'over UPLOAD_MAX_BYTES' })
  @ApiUnsupportedMediaTypeResponse({ description: 'not a supported document type' })
  async upload(
    @Principal() principal: AuthPrincipal,
    @UploadedFile() file: Express.Multer.File | undefined,
    @Body() fields: UploadFileFieldsDto,
    @Query() query: UploadQueryDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<UploadAcceptedDto> {
    if (!file) throw badInput('the multipart field `file` is missing');
    const result = await this.documents.upload({
      ownerId: principal.ownerId,
      collectionId: fields.collection_id,
      filename: file.originalname,
      // Read back from the spool only now, once everything before it has passed; the
      // admission middleware removes the file when the answer is sent.
      bytes: await readFile(file.path),
      declaredType: file.mimetype,
      metadata: fields.metadata,
      force: query.force,
    });
    return accepted(result, res);
  }

  @Post('text')
  @ApiOperation({ summary: 'Upload text or Markdown as JSON' })
  @ApiAcceptedResponse({ type: UploadAcceptedDto, description: 'stored; ingest queued' })
  @ApiOkResponse({ type: UploadAcceptedDto, description: 'duplicate: the existing document' })
  @ApiNotFoundResponse({ description: 'unknown or foreign collection' })
  @ApiPayloadTooLargeResponse({ description: 'over UPLOAD_MAX_BYTES' })
  async uploadText(
    @Principal() principal: AuthPrincipal,
    @Body() body: UploadTextDto,
    @Query() query: UploadQueryDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<UploadAcceptedDto> {
    const result = await this.documents.uploadText({
      ownerId: principal.ownerId,
      collectionId: body.collection_id,
      title: body.title,
      text: body.text,
      metadata: body.metadata,
      force: query.force,
    });
    return accepted(result, res);
  }

  @Get()
  @ApiOperation({ summary: 'List documents, newest first (cursor pagination)' })
  @ApiOkResponse({ type: DocumentPageDto })
  list(
    @Principal() principal: AuthPrincipal,
    @Query() query: ListDocumentsQueryDto,
  ): Promise<DocumentPageDto> {
    return this.documents.list(principal.ownerId, {
      collectionId: query.collection_id,
      status: query.status,
      createdAfter: query.created_after ? new Date(query.created_after) : undefined,
      createdBefore: query.created_before ? new Date(query.created_before) : undefined,
      includeDeleted: query.include_deleted,
      cursor: query.cursor,
      limit: query.limit ?? 20,
    });
  }

  @Post('delete')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Delete many documents',
    description:
      'Either `ids` (1 to 1000) or a whole `collection_id`. Cleanup runs in the background.',
  })
  @ApiAcceptedResponse({ type: DeleteManyAcceptedDto })
  deleteMany(
    @Principal() principal: AuthPrincipal,
    @Body() body: DeleteManyDto,
  ): Promise<DeleteManyAcceptedDto> {
    if (body.ids && body.collection_id)
      throw badInput('give either ids or collection_id, not both');
    return this.documents.deleteMany(principal.ownerId, {
      ids: body.ids,
      collectionId: body.collection_id,
    });
  }

  @Get(':id')
  @ApiOkResponse({ type: DocumentDto })
  @ApiNotFoundResponse({ description: 'unknown, or owned by someone else' })
  get(
    @Principal() principal: AuthPrincipal,
    @Param('id', DocumentId()) id: string,
  ): Promise<DocumentDto> {
    return this.documents.view(principal.ownerId, id);
  }

  @Get(':id/status')
  @ApiOkResponse({ type: DocumentStatusDto })
  @ApiNotFoundResponse({ description: 'unknown, or owned by someone else' })
  status(
    @Principal() principal: AuthPrincipal,
    @Param('id', DocumentId()) id: string,
  ): Promise<DocumentStatusDto> {
    return this.documents.status(principal.ownerId, id);
  }

  @Get(':id/events')
  @ApiOperation({
    summary: 'Follow processing live (Server-Sent Events)',
    description:
      'Each `status` event carries {document_id, generation, status, stage, progress, ' +
      'chunks_done, chunks_total, error, at}. The first event is the current state; the ' +
      'stream closes after a terminal status (completed, failed, deleted). Comment lines ' +
      'are sent every 15 s to keep the connection open.',
  })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: 'an event stream' })
  @ApiNotFoundResponse({ description: 'unknown, or owned by someone else' })
  async events(
    @Principal() principal: AuthPrincipal,
    @Param('id', DocumentId()) id: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.streams.stream(principal, id, req, res);
  }

  @Get(':id/chunks')
  @ApiOperation({
    summary: "The current generation's chunks, in order (cursor pagination)",
    description:
      'Pass the `next_cursor` of a page as `cursor` to get the next one. `offset` is an ' +
      'alternative for jumping to a position; a cursor from before a reprocess is a 409.',
  })
  @ApiOkResponse({ type: ChunkPageDto })
  @ApiNotFoundResponse({ description: 'unknown, or owned by someone else' })
  @ApiConflictResponse({ description: 'the cursor is from before the document was reprocessed' })
  chunks(
    @Principal() principal: AuthPrincipal,
    @Param('id', DocumentId()) id: string,
    @Query() query: ChunksQueryDto,
  ): Promise<ChunkPageDto> {
    return this.documents.chunks(principal.ownerId, id, {
      limit: query.limit ?? 50,
      cursor: query.cursor,
      offset: query.offset,
    });
  }

  @Get(':id/content')
  @ApiOperation({ summary: 'The original bytes, with their content type' })
  @ApiProduces('application/octet-stream')
  @ApiOkResponse({ description: 'the uploaded file' })
  @ApiNotFoundResponse({ description: 'unknown, foreign, or already deleted' })
  async content(
    @Principal() principal: AuthPrincipal,
    @Param('id', DocumentId()) id: string,
    @Res() res: Response,
  ): Promise<void> {
    const { document, bytes } = await this.documents.content(principal.ownerId, id);
    res.status(200);
    res.setHeader('Content-Type', document.mimeType);
    res.setHeader('Content-Length', String(bytes.length));
    res.setHeader('Content-Disposition', contentDisposition(document.filename));
    res.setHeader('Cache-Control', 'private, no-store');
    res.end(bytes);
  }

  @Post(':id/reprocess')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ summary: 'Process again from the original (bumps the generation)' })
  @ApiAcceptedResponse({ type: ReprocessAcceptedDto })
  @ApiConflictResponse({ description: 'the document is being deleted' })
  @ApiNotFoundResponse({ description: 'unknown, or owned by someone else' })
  async reprocess(
    @Principal() principal: AuthPrincipal,
    @Param('id', DocumentId()) id: string,
  ): Promise<ReprocessAcceptedDto> {
    const { document, jobId } = await this.documents.reprocess(principal.ownerId, id);
    return {
      document_id: document.id,
      job_id: jobId,
      status: document.status,
      generation: document.generation,
      status_url: statusUrl(document.id),
    };
  }

  @Delete(':id')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ summary: 'Delete a document (cleanup runs in the background)' })
  @ApiAcceptedResponse({ type: DeleteAcceptedDto })
  @ApiNotFoundResponse({ description: 'unknown, or owned by someone else' })
  delete(
    @Principal() principal: AuthPrincipal,
    @Param('id', DocumentId()) id: string,
  ): Promise<DeleteAcceptedDto> {
    return this.documents.delete(principal.ownerId, id);
  }
}

function accepted(result: UploadResult, res: Response): UploadAcceptedDto {
  const id = result.document.id;
  if (result.duplicate) {
    res.status(HttpStatus.OK);
    return {
      document_id: id,
      job_id: null,
      status: result.document.status,
      status_url: statusUrl(id),
      duplicate: true,
      document: result.document,
    };
  }
  res.status(HttpStatus.ACCEPTED);
  return {
    document_id: id,
    job_id: result.jobId,
    status: result.document.status,
    status_url: statusUrl(id),
    duplicate: false,
  };
}
