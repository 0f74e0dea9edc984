import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import type Redis from 'ioredis';
import { CLIENT_REDIS } from './queue.tokens';

/** Redis answers PING within a hard timeout. */
@Injectable()
export class QueueHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    @Inject(CLIENT_REDIS) private readonly redis: Redis,
  ) {}

  isHealthy(key = 'redis', timeoutMs = 1_000) {
    return this.health
      .check(key)
      .attempt(async () => {
        const answer = await this.redis.ping();
        if (answer !== 'PONG') throw new Error(`unexpected PING answer: ${answer}`);
      })
      .withTimeout(timeoutMs);
  }
}
