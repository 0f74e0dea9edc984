import { ApiProperty } from '@nestjs/swagger';
import { FINDING_KINDS } from '@quarry/documents';

/** OpenAPI shapes of the integrity report (the service's IntegrityReport, as JSON). */
export class FindingDto {
  @ApiProperty({ enum: Object.keys(FINDING_KINDS) })
  kind!: string;

  @ApiProperty({ enum: ['warning', 'critical'] })
  severity!: string;

  @ApiProperty({ description: 'how many (points, documents or jobs); 0 when all is well' })
  count!: number;

  @ApiProperty({ type: [String], description: 'up to 10 ids' })
  examples!: string[];

  @ApiProperty()
  message!: string;

  @ApiProperty({ description: 'false when the check could not run (its dependency is down)' })
  checked!: boolean;
}

export class RepairDto {
  @ApiProperty({ enum: Object.keys(FINDING_KINDS) })
  kind!: string;

  @ApiProperty()
  count!: number;
}

export class IntegrityReportDto {
  @ApiProperty({ enum: ['healthy', 'warning', 'critical'] })
  overall!: string;

  @ApiProperty({ description: 'true when repairs were made; findings are what was found before' })
  fix!: boolean;

  @ApiProperty({ format: 'date-time' })
  checkedAt!: string;

  @ApiProperty({ type: [FindingDto] })
  findings!: FindingDto[];

  @ApiProperty({ type: [RepairDto] })
  repairs!: RepairDto[];

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'number' },
    description: 'milliseconds per phase',
  })
  timings!: Record<string, number>;

  @ApiProperty({
    type: 'object',
    properties: { pointsScanned: { type: 'number' }, chunksChecked: { type: 'number' } },
  })
  totals!: { pointsScanned: number; chunksChecked: number };

  @ApiProperty({ type: [String], description: 'checks that could not run, and why' })
  skipped!: string[];

  @ApiProperty()
  durationMs!: number;
}
