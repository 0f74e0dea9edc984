import { Body, Controller, Get, HttpCode, HttpStatus, Post, SetMetadata } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { JobsReport, QueueControlService, parseQueueNames } from '@quarry/documents';
import { ALL_QUEUES, JobQueueService, QueueName } from '@quarry/queue';
import { IS_PUBLIC } from '../auth/public.decorator';
import { Roles } from '../auth/roles.decorator';
import {
  JobsReportDto,
  QueueSelectionDto,
  QueueSwitchResultDto,
  ResetStuckDto,
  ResetStuckResultDto,
} from './operations.dto';

const HOUR_S = 3600;

/**
 * The operator's job controls over HTTP, for scripts and runbooks that cannot run the
 * cli: the same QueueControlService behind `quarry check-jobs`, `pause`, `resume` and
 * `reset-stuck-jobs`.
 */
@ApiTags('admin')
@ApiBearerAuth()
@Controller('v1/admin')
@Roles('admin')
// Never public, also when mounted as an extra module (those default to public).
@SetMetadata(IS_PUBLIC, false)
export class OperationsController {
  constructor(
    private readonly control: QueueControlService,
    private readonly jobs: JobQueueService,
  ) {}

  @Get('jobs')
  @ApiOperation({
    summary: 'Jobs per queue and documents per status',
    description: 'Waiting, active, delayed, failed, paused and the oldest waiting age per queue.',
  })
  @ApiOkResponse({ type: JobsReportDto })
  @ApiForbiddenResponse({ description: 'the key is not an admin key' })
  jobsReport(): Promise<JobsReport> {
    return this.control.checkJobs();
  }

  @Post('queues/pause')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Pause queues',
    description:
      'Workers stop taking jobs (active ones finish); uploads are still accepted and wait in the queue.',
  })
  @ApiOkResponse({ type: QueueSwitchResultDto })
  @ApiForbiddenResponse({ description: 'the key is not an admin key' })
  async pause(@Body() body: QueueSelectionDto): Promise<QueueSwitchResultDto> {
    const queues = parseQueueNames(body.queue);
    return this.switchResult(queues, await this.control.pause(queues));
  }

  @Post('queues/resume')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Resume paused queues' })
  @ApiOkResponse({ type: QueueSwitchResultDto })
  @ApiForbiddenResponse({ description: 'the key is not an admin key' })
  async resume(@Body() body: QueueSelectionDto): Promise<QueueSwitchResultDto> {
    const queues = parseQueueNames(body.queue);
    return this.switchResult(queues, await this.control.resume(queues));
  }

  @Post('jobs/reset-stuck')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Reset documents stuck in processing',
    description:
      'Documents in processing without a heartbeat for `olderThanSeconds` (default one hour) go back to pending and are enqueued again.',
  })
  @ApiOkResponse({ type: ResetStuckResultDto })
  @ApiForbiddenResponse({ description: 'the key is not an admin key' })
  resetStuck(@Body() body: ResetStuckDto): Promise<ResetStuckResultDto> {
    return this.control.resetStuck((body.olderThanSeconds ?? HOUR_S) * 1000);
  }

  private async switchResult(
    queues: QueueName[],
    changed: QueueName[],
  ): Promise<QueueSwitchResultDto> {
    const paused: Record<string, boolean> = {};
    for (const name of ALL_QUEUES) paused[name] = await this.jobs.queue(name).isPaused();
    return { queues, changed, paused };
  }
}
