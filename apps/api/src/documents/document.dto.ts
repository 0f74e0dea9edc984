import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DocumentStatus } from '@quarry/db';

const STATUSES = Object.values(DocumentStatus);

/** The public shape of a document (DocumentView in @quarry/documents). */
export class DocumentDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) collection_id!: string;
  @ApiProperty({ description: 'sanitised original name' }) filename!: string;
  @ApiProperty({ description: 'sniffed from the content', example: 'application/pdf' })
  mime_type!: string;
  @ApiProperty() size_bytes!: number;
  @ApiProperty() sha256!: string;
  @ApiProperty({ enum: STATUSES }) status!: DocumentStatus;
  @ApiProperty({ description: 'bumped by reprocess and delete' }) generation!: number;
  @ApiProperty({ type: String, nullable: true }) stage!: string | null;
  @ApiProperty({ minimum: 0, maximum: 100 }) progress!: number;
  @ApiProperty() chunk_count!: number;
  @ApiProperty({ type: String, nullable: true }) error!: string | null;
  @ApiProperty() attempts!: number;
  @ApiProperty({ type: String, nullable: true }) embedding_model!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) metadata!: Record<string, unknown>;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  processing_started_at!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  processing_completed_at!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) deleted_at!: string | null;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
}

export class DocumentStatusDto {
  @ApiProperty({ enum: STATUSES }) status!: DocumentStatus;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'extracting, chunking, embedding, indexing, completed, failed, deleting',
  })
  stage!: string | null;
  @ApiProperty({ minimum: 0, maximum: 100 }) progress!: number;
  @ApiProperty() chunks_done!: number;
  @ApiProperty() chunks_total!: number;
  @ApiProperty() attempts!: number;
  @ApiProperty({ type: String, nullable: true }) error!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) started_at!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) completed_at!: string | null;
  @ApiProperty() generation!: number;
}

export class DocumentPageDto {
  @ApiProperty({ type: [DocumentDto] }) items!: DocumentDto[];
  @ApiProperty({ type: String, nullable: true, description: 'pass as `cursor` for the next page' })
  next_cursor!: string | null;
}

export class ChunkDto {
  @ApiProperty({ format: 'uuid', description: 'also the id of its point in the vector index' })
  id!: string;
  @ApiProperty() ordinal!: number;
  @ApiProperty() text!: string;
  @ApiProperty() token_count!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'PDF page, from 1' })
  page!: number | null;
  @ApiProperty({ type: Number, nullable: true }) char_start!: number | null;
  @ApiProperty({ type: Number, nullable: true }) char_end!: number | null;
}

export class ChunkPageDto {
  @ApiProperty({ type: [ChunkDto] }) items!: ChunkDto[];
  @ApiProperty({ description: 'chunks of the current generation' }) total!: number;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'pass as `cursor` for the next page; null on the last page',
  })
  next_cursor!: string | null;
}

export class UploadAcceptedDto {
  @ApiProperty({ format: 'uuid' }) document_id!: string;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'the ingest job; null for a duplicate',
  })
  job_id!: string | null;
  @ApiProperty({ enum: STATUSES, description: '`pending` for a new upload' })
  status!: DocumentStatus;
  @ApiProperty({ example: '/v1/documents/3f0c…/status' }) status_url!: string;
  @ApiProperty({ description: 'true: the same content is already in this collection' })
  duplicate!: boolean;
  @ApiPropertyOptional({ type: DocumentDto, description: 'the existing document (duplicates)' })
  document?: DocumentDto;
}

export class ReprocessAcceptedDto {
  @ApiProperty({ format: 'uuid' }) document_id!: string;
  @ApiProperty() job_id!: string;
  @ApiProperty({ enum: STATUSES }) status!: DocumentStatus;
  @ApiProperty() generation!: number;
  @ApiProperty() status_url!: string;
}

export class DeleteAcceptedDto {
  @ApiProperty({ format: 'uuid' }) document_id!: string;
  @ApiProperty({ enum: STATUSES, description: '`deleting`, or `deleted` if it already was' })
  status!: DocumentStatus;
  @ApiProperty({ type: String, nullable: true }) job_id!: string | null;
}

export class DeleteManyAcceptedDto {
  @ApiProperty({ description: 'documents marked for deletion' }) count!: number;
}
