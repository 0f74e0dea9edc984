import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ALL_QUEUES, QueueName } from '@quarry/queue';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';

export class QueueJobsDto {
  @ApiProperty({ enum: ALL_QUEUES }) name!: QueueName;
  @ApiProperty() waiting!: number;
  @ApiProperty() active!: number;
  @ApiProperty() delayed!: number;
  @ApiProperty() failed!: number;
  @ApiProperty() prioritized!: number;
  @ApiProperty() completed!: number;
  @ApiProperty() paused!: boolean;
  @ApiProperty({ nullable: true, type: Number, description: 'age of the oldest waiting job (ms)' })
  oldestWaitingAgeMs!: number | null;
}

export class JobsReportDto {
  @ApiProperty({ type: [QueueJobsDto] }) queues!: QueueJobsDto[];
  @ApiProperty({
    description: 'documents per status',
    example: { pending: 0, processing: 1, completed: 12, failed: 0, deleting: 0, deleted: 2 },
  })
  documents!: Record<string, number>;
  @ApiProperty() generatedAt!: string;
}

export class QueueSelectionDto {
  @ApiPropertyOptional({ enum: ALL_QUEUES, description: 'one queue; all queues when left out' })
  @IsOptional()
  @IsIn(ALL_QUEUES)
  queue?: QueueName;
}

export class QueueSwitchResultDto {
  @ApiProperty({ enum: ALL_QUEUES, isArray: true, description: 'the queues asked for' })
  queues!: QueueName[];
  @ApiProperty({ enum: ALL_QUEUES, isArray: true, description: 'those whose state changed now' })
  changed!: QueueName[];
  @ApiProperty({ description: 'paused state of every queue after the call' })
  paused!: Record<string, boolean>;
}

export class ResetStuckDto {
  @ApiPropertyOptional({
    description: 'seconds without a heartbeat that count as stuck (default 3600)',
    minimum: 0,
    maximum: 30 * 24 * 3600,
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(30 * 24 * 3600)
  olderThanSeconds?: number;
}

export class ResetStuckResultDto {
  @ApiProperty() olderThanMs!: number;
  @ApiProperty({ description: 'documents returned to pending' }) reset!: {
    id: string;
    generation: number;
  }[];
  @ApiProperty({ description: 'ingest jobs enqueued for them' }) enqueued!: number;
}
