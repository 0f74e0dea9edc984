import { Controller, Get } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiTags,
} from '@nestjs/swagger';
import { ALL_QUEUES, JobQueueService, QueueName } from '@quarry/queue';
import { Roles } from '../auth/roles.decorator';

export class QueueCountsDto {
  @ApiProperty({ enum: ALL_QUEUES }) name!: QueueName;
  @ApiProperty() paused!: boolean;
  @ApiProperty() waiting!: number;
  @ApiProperty() active!: number;
  @ApiProperty() delayed!: number;
  @ApiProperty() prioritized!: number;
  @ApiProperty() failed!: number;
  @ApiProperty() completed!: number;
}

export class QueueOverviewDto {
  @ApiProperty({ type: [QueueCountsDto] }) queues!: QueueCountsDto[];
}

/** Operator endpoints: admin keys only. The full dashboard is at /admin/queues. */
@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('v1/admin')
export class AdminController {
  constructor(private readonly jobs: JobQueueService) {}

  @Get('queues')
  @ApiOperation({ summary: 'Job counts per queue (for scripts; the dashboard shows the jobs)' })
  @ApiOkResponse({ type: QueueOverviewDto })
  @ApiForbiddenResponse({ description: 'the key is not an admin key' })
  async queues(): Promise<QueueOverviewDto> {
    const queues = await Promise.all(
      ALL_QUEUES.map(async (name) => ({ name, ...(await this.jobs.counts(name)) })),
    );
    return { queues };
  }
}
