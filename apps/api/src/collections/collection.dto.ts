import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import type { Collection } from '@quarry/db';
import { IsOptional, IsString, MaxLength, MinLength } from 'class-validator';

export class CreateCollectionDto {
  @ApiProperty({ minLength: 1, maxLength: 200, example: 'Contracts 2026' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;

  @ApiPropertyOptional({ maxLength: 2000, nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string | null;
}

export class UpdateCollectionDto extends PartialType(CreateCollectionDto) {}

export class CollectionDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ type: String, nullable: true }) description!: string | null;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
}

export class CollectionListDto {
  @ApiProperty({ type: [CollectionDto] }) items!: CollectionDto[];
}

export class CollectionCascadeDto {
  @ApiProperty({ description: 'documents marked for deletion by this request' })
  deleted_documents!: number;

  @ApiProperty({ format: 'uuid' }) collection_id!: string;

  @ApiProperty({
    description: 'false: the collection itself stays until its documents are cleaned up',
  })
  collection_deleted!: boolean;
}

export function toCollectionDto(c: Collection): CollectionDto {
  return {
    id: c.id,
    name: c.name,
    description: c.description,
    created_at: new Date(c.createdAt).toISOString(),
    updated_at: new Date(c.updatedAt).toISOString(),
  };
}
