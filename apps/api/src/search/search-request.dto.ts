import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MAX_QUERY_LENGTH, MAX_SEARCH_LIMIT, SEARCH_MODES } from '@quarry/documents';
import type { SearchFilter, SearchMode } from '@quarry/documents';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';

export class SearchRequestDto {
  @ApiProperty({ maxLength: MAX_QUERY_LENGTH, example: '데비안 패키지 관리' })
  @IsString()
  @Matches(/\S/, { message: 'query must not be empty or only whitespace' })
  @MaxLength(MAX_QUERY_LENGTH)
  query!: string;

  @ApiPropertyOptional({ enum: SEARCH_MODES, default: 'hybrid' })
  @IsOptional()
  @IsIn(SEARCH_MODES, { message: `mode must be one of ${SEARCH_MODES.join(', ')}` })
  mode?: SearchMode;

  @ApiPropertyOptional({ type: [String], format: 'uuid', description: 'only these collections' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @IsUUID('all', { each: true, message: 'collection_ids must hold collection UUIDs' })
  collection_ids?: string[];

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_SEARCH_LIMIT, default: 10 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_SEARCH_LIMIT)
  limit?: number;

  @ApiPropertyOptional({ description: 'next_cursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  cursor?: string;

  @ApiPropertyOptional({ minimum: 0, maximum: 10_000, description: 'instead of cursor' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(10_000)
  offset?: number;

  @ApiPropertyOptional({
    description: 'lowest score returned: cosine for semantic, 0–1 for keyword and hybrid',
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  score_threshold?: number;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    example: {
      metadata: { team: 'infra', year: { in: [2025, 2026] } },
      mime_type: ['application/pdf', 'text/markdown'],
      created_at: { gte: '2026-01-01T00:00:00Z' },
    },
  })
  @IsOptional()
  @IsObject({ message: 'filter must be an object' })
  filter?: SearchFilter;
}

export class SimilarQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_SEARCH_LIMIT, default: 10 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_SEARCH_LIMIT)
  limit?: number;
}
