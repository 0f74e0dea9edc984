import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { QdrantGateway } from './qdrant.gateway';

/**
 * Readiness of Qdrant: one `/readyz` request with a hard timeout, no retries. It does not
 * look at the collection; bootstrap has already checked that once at start-up.
 */
@Injectable()
export class VectorHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly gateway: QdrantGateway,
  ) {}

  isHealthy<const Key extends string = 'qdrant'>(
    key: Key = 'qdrant' as Key,
    timeoutMs = this.gateway.healthTimeoutMs,
  ): PromiseLike<HealthIndicatorResult<Key>> {
    return this.health
      .check(key)
      .attempt(() => this.gateway.ping())
      .withTimeout(timeoutMs);
  }
}
