import { Controller, Get, HttpCode, HttpStatus, Post, SetMetadata } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { IntegrityReport, IntegrityService, ReconcilerService } from '@quarry/documents';
import { IS_PUBLIC } from '../auth/public.decorator';
import { Roles } from '../auth/roles.decorator';
import { ProblemException } from '../common/problem-details.filter';
import { IntegrityReportDto } from './integrity-report.dto';

/**
 * The operator's view of PostgreSQL, Redis and Qdrant agreeing with each other. The
 * same service backs the scheduled reconciler and `quarry check-data`.
 */
@ApiTags('admin')
@ApiBearerAuth()
@Controller('v1/admin/integrity')
@Roles('admin')
// Never public, also when mounted as an extra module (those default to public).
@SetMetadata(IS_PUBLIC, false)
export class IntegrityController {
  constructor(
    private readonly integrity: IntegrityService,
    private readonly reconciler: ReconcilerService,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Check integrity (dry run)',
    description:
      'Dependencies, orphan and missing points, stale, stuck and failed work. Changes nothing. ' +
      'The answer is 200 whatever the outcome; read `overall`.',
  })
  @ApiOkResponse({ type: IntegrityReportDto })
  @ApiForbiddenResponse({ description: 'the key is not an admin key' })
  async check(): Promise<IntegrityReport> {
    return this.integrity.check({ fix: false });
  }

  @Post('fix')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Check and repair',
    description:
      'Deletes orphan points, re-indexes documents with missing points, hands stale work back ' +
      'and re-enqueues pending and deleting documents. Runs under the reconciler’s lock.',
  })
  @ApiOkResponse({ type: IntegrityReportDto })
  @ApiConflictResponse({ description: 'the reconciler is running right now; retry shortly' })
  @ApiForbiddenResponse({ description: 'the key is not an admin key' })
  async fix(): Promise<IntegrityReport> {
    const report = await this.reconciler.reconcile({ fix: true });
    if (!report) {
      throw new ProblemException(
        HttpStatus.CONFLICT,
        'The reconciler is running right now; retry in a few seconds.',
        {},
        { 'Retry-After': '5' },
      );
    }
    return report;
  }
}
