import { Controller, Get, HttpCode, ServiceUnavailableException } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '../auth/public.decorator';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { DbHealthIndicator } from '@quarry/db';
import { ShutdownCoordinator } from '@quarry/observability';
import { QueueHealthIndicator } from '@quarry/queue';

/**
 * Liveness is cheap: the process answers. Readiness checks what the api cannot serve
 * without (PostgreSQL and Redis) with hard timeouts. Qdrant is left out on purpose:
 * uploads keep working while it is down, and taking the api out of rotation would turn
 * a search outage into a total one.
 */
@Public()
@ApiExcludeController()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: DbHealthIndicator,
    private readonly redis: QueueHealthIndicator,
    private readonly shutdown: ShutdownCoordinator,
  ) {}

  @Get('live')
  @HttpCode(200)
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    if (this.shutdown.isShuttingDown) {
      throw new ServiceUnavailableException('shutting down');
    }
    return this.health.check([() => this.db.isHealthy(), () => this.redis.isHealthy()]);
  }
}
