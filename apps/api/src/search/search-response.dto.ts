import { ApiProperty } from '@nestjs/swagger';
import { SEARCH_MODES } from '@quarry/documents';
import type { SearchMode } from '@quarry/documents';

export class HighlightDto {
  @ApiProperty() start!: number;
  @ApiProperty() end!: number;
}

export class SearchHitDocumentDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() filename!: string;
  @ApiProperty({ format: 'uuid' }) collection_id!: string;
  @ApiProperty() mime_type!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) metadata!: Record<string, unknown>;
}

export class SearchHitDto {
  @ApiProperty({ format: 'uuid' }) chunk_id!: string;
  @ApiProperty() text!: string;
  @ApiProperty({ type: [HighlightDto], description: 'where query words occur in text' })
  highlights!: HighlightDto[];
  @ApiProperty() score!: number;
  @ApiProperty({ description: '1-based, across pages' }) rank!: number;
  @ApiProperty({ nullable: true, type: Number }) page!: number | null;
  @ApiProperty() ordinal!: number;
  @ApiProperty({ type: SearchHitDocumentDto }) document!: SearchHitDocumentDto;
}

export class SearchResponseDto {
  @ApiProperty({ type: [SearchHitDto] }) results!: SearchHitDto[];
  @ApiProperty({ nullable: true, type: String }) next_cursor!: string | null;
  @ApiProperty() took_ms!: number;
  @ApiProperty({ enum: SEARCH_MODES }) mode!: SearchMode;
}

export class SimilarDocumentDto {
  @ApiProperty() score!: number;
  @ApiProperty({ type: SearchHitDocumentDto }) document!: SearchHitDocumentDto;
}

export class SimilarDocumentsResponseDto {
  @ApiProperty({ format: 'uuid' }) document_id!: string;
  @ApiProperty({ type: [SimilarDocumentDto] }) results!: SimilarDocumentDto[];
  @ApiProperty() took_ms!: number;
}
