import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DocumentStatus } from '@quarry/db';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Max,
  MaxLength,
  Min,
} from 'class-validator';

const STATUSES = Object.values(DocumentStatus);

/** `true`/`false` in a query string (anything else stays as it is and fails @IsBoolean). */
const QueryBoolean = () =>
  Transform(({ value }: { value: unknown }) =>
    value === 'true' ? true : value === 'false' ? false : value,
  );

/** The non-file fields of a multipart upload. */
export class UploadFileFieldsDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  collection_id!: string;

  @ApiPropertyOptional({ description: 'a JSON object, as a string', example: '{"source":"crm"}' })
  @IsOptional()
  @IsString()
  metadata?: string;
}

export class UploadQueryDto {
  @ApiPropertyOptional({ description: 'store again even if the same content is there' })
  @IsOptional()
  @QueryBoolean()
  @IsBoolean()
  force?: boolean;
}

export class UploadTextDto {
  @ApiProperty({ maxLength: 500, example: '회의록 2026-03' })
  @IsString()
  @MaxLength(500)
  title!: string;

  @ApiProperty({ description: 'UTF-8 text or Markdown, up to UPLOAD_MAX_BYTES' })
  @IsString()
  text!: string;

  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  collection_id!: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  @IsOptional()
  @IsObject({ message: 'metadata must be a JSON object' })
  metadata?: Record<string, unknown>;
}

export class ListDocumentsQueryDto {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  collection_id?: string;

  @ApiPropertyOptional({ enum: STATUSES })
  @IsOptional()
  @IsIn(STATUSES)
  status?: DocumentStatus;

  @ApiPropertyOptional({ format: 'date-time' })
  @IsOptional()
  @IsISO8601()
  created_after?: string;

  @ApiPropertyOptional({ format: 'date-time' })
  @IsOptional()
  @IsISO8601()
  created_before?: string;

  @ApiPropertyOptional({ description: 'also list documents being deleted and tombstones' })
  @IsOptional()
  @QueryBoolean()
  @IsBoolean()
  include_deleted?: boolean;

  @ApiPropertyOptional({ description: 'next_cursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;
}

export class ChunksQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @ApiPropertyOptional({
    description:
      'next_cursor of the previous page: continues after its last chunk, at the same cost at any depth',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;

  @ApiPropertyOptional({
    minimum: 0,
    description:
      'an alternative to `cursor` for jumping to a position: skips this many chunks (cost grows with it); not together with `cursor`',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(2_147_483_647) // PostgreSQL's int4: beyond it the query would fail instead of answering 400
  offset?: number;
}

export class DeleteManyDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'every document of this collection' })
  @IsOptional()
  @IsUUID()
  collection_id?: string;

  @ApiPropertyOptional({ type: [String], maxItems: 1000, description: 'these documents' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @IsUUID('all', { each: true })
  ids?: string[];
}
