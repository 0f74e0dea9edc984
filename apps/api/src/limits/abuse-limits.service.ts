import { HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import { QuarryConfig } from '@quarry/config';
import { CLIENT_REDIS } from '@quarry/queue';
import type Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { ProblemException } from '../common/problem-details.filter';

export type RateLimitedAction = 'upload' | 'search';

/**
 * Per-key and per-address budgets, held in Redis so that every api replica counts
 * against the same numbers. A Redis outage falls back to a per-process count (the
 * library's insurance limiter) instead of refusing everyone or letting everyone through.
 */
@Injectable()
export class AbuseLimitsService {
  private readonly logger = new Logger('AbuseLimits');
  private readonly perMinute: Partial<Record<RateLimitedAction, RateLimiterRedis>> = {};
  private readonly authFailures?: RateLimiterRedis;

  constructor(
    @Inject(CLIENT_REDIS) private readonly redis: Redis,
    private readonly config: QuarryConfig,
  ) {
    const { limits, redis: redisConfig } = config;
    const limiter = (name: string, points: number): RateLimiterRedis =>
      new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `${redisConfig.prefix}:limit:${name}`,
        points,
        duration: 60,
        insuranceLimiter: new RateLimiterMemory({ points, duration: 60 }),
      });
    if (limits.uploadsPerMin > 0) this.perMinute.upload = limiter('upload', limits.uploadsPerMin);
    if (limits.searchesPerMin > 0) this.perMinute.search = limiter('search', limits.searchesPerMin);
    if (limits.authFailuresPerMin > 0)
      this.authFailures = limiter('auth-failure', limits.authFailuresPerMin);
  }

  /** Counts one request of this key; over the budget it is a 429 with Retry-After. */
  async consume(action: RateLimitedAction, keyId: string): Promise<void> {
    const limiter = this.perMinute[action];
    if (!limiter) return;
    try {
      await limiter.consume(keyId);
    } catch (err) {
      if (err instanceof RateLimiterRes) {
        throw tooMany(
          `This API key has used its ${limiter.points} ${action} requests for this minute.`,
          err,
        );
      }
      this.logger.warn(`${action} limit not checked: ${String(err)}`);
    }
  }

  /**
   * Refuses an address that has sent too many bad keys this minute, before its next key
   * costs a database lookup.
   */
  async assertAuthAllowed(address: string): Promise<void> {
    if (!this.authFailures) return;
    const state = await this.authFailures.get(address).catch(() => null);
    if (state && state.consumedPoints >= this.authFailures.points) {
      throw tooMany('Too many requests with invalid credentials from this address.', state);
    }
  }

  async recordAuthFailure(address: string): Promise<void> {
    await this.authFailures?.penalty(address, 1).catch(() => undefined);
  }

  /** Takes one of the key's concurrent event-stream slots, or answers 429. Returns the release. */
  openStream(keyId: string): Promise<() => void> {
    const { streamsPerKey, streamMaxMs } = this.config.limits;
    return this.takeSlot(
      'streams',
      keyId,
      streamsPerKey,
      streamMaxMs,
      (max) => `This API key already has ${max} event streams open; close one first.`,
    );
  }

  /**
   * Takes one of the key's concurrent upload slots, or answers 429: one key cannot hold
   * the whole in-flight byte budget with slow uploads. Returns the release.
   */
  startUpload(keyId: string): Promise<() => void> {
    const { uploadsPerKey } = this.config.limits;
    return this.takeSlot(
      'uploads',
      keyId,
      uploadsPerKey,
      this.config.http.requestTimeoutMs + 60_000,
      (max) => `This API key already has ${max} uploads in progress; wait for one to finish.`,
    );
  }

  /**
   * A concurrency cap held in Redis: a sorted set of slots scored by when they were taken.
   * A slot older than `holdMs` (longer than anything can hold one) is dropped, so a
   * process that died cannot keep slots for ever. 0 slots: no cap.
   */
  private async takeSlot(
    kind: string,
    keyId: string,
    max: number,
    holdMs: number,
    refusal: (max: number) => string,
  ): Promise<() => void> {
    if (max === 0) return () => undefined;
    const key = `${this.config.redis.prefix}:limit:${kind}:${keyId}`;
    const slot = randomUUID();
    const now = Date.now();
    let held: number;
    try {
      const results = await this.redis
        .multi()
        .zremrangebyscore(key, '-inf', now - holdMs)
        .zadd(key, now, slot)
        .zcard(key)
        .pexpire(key, holdMs)
        .exec();
      held = Number(results?.[2]?.[1] ?? 0);
    } catch (err) {
      this.logger.warn(`${kind} limit not checked: ${String(err)}`);
      return () => undefined;
    }
    const release = (): void => {
      void this.redis.zrem(key, slot).catch(() => undefined);
    };
    if (held > max) {
      release();
      throw new ProblemException(
        HttpStatus.TOO_MANY_REQUESTS,
        refusal(max),
        {},
        { 'Retry-After': '5' },
      );
    }
    return release;
  }
}

function tooMany(detail: string, state: RateLimiterRes): ProblemException {
  const retryAfter = Math.max(1, Math.ceil(state.msBeforeNext / 1000));
  return new ProblemException(
    HttpStatus.TOO_MANY_REQUESTS,
    `${detail} Retry in ${retryAfter} s.`,
    {},
    { 'Retry-After': String(retryAfter) },
  );
}
