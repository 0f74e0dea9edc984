import type { Type } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ConfigOverrides, loadConfig, QuarryConfig } from '@quarry/config';
import { TestDatabase } from '@quarry/testing';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createApiApp } from '../../src/create-api-app';
import { MetricsHttpServer } from '../../src/metrics/metrics-http.server';
import { dropRedisPrefix } from '@quarry/testing';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A Redis key prefix of its own for one test file, so files never see each other's queues. */
export function uniqueQueuePrefix(name: string): string {
  return `quarry-test-${name}-${randomBytes(4).toString('hex')}`;
}

/** The environment a spawned api needs to talk to this file's database and Redis prefix. */
export function apiTestEnv(
  db: TestDatabase,
  queuePrefix: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    ...baseSettings(db, queuePrefix, process.env.TEST_LOG_LEVEL ?? 'warn'),
    ...extra,
  };
}

function baseSettings(db: TestDatabase, queuePrefix: string, logLevel: string) {
  return {
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    REDIS_URL,
    QUEUE_PREFIX: queuePrefix,
    QDRANT_URL: process.env.QDRANT_URL ?? 'http://127.0.0.1:6333',
    LOG_LEVEL: logLevel,
    LOG_PRETTY: 'false',
  };
}

/**
 * The api's configuration for one test file, built by the real loader from explicit
 * options only (the machine's environment cannot leak in).
 */
export function apiTestConfig(
  db: TestDatabase,
  queuePrefix: string,
  overrides: ConfigOverrides = {},
): QuarryConfig {
  return loadConfig({
    app: 'api',
    env: {},
    overrides: {
      ...baseSettings(db, queuePrefix, process.env.TEST_LOG_LEVEL ?? 'silent'),
      ...overrides,
    },
  });
}

export interface RunningApi {
  app: NestExpressApplication;
  baseUrl: string;
  /** METRICS_PORT's base URL: /metrics is not served on the public port */
  metricsUrl: string;
  close(): Promise<void>;
}

/** The real api (createApiApp) listening on a free loopback port. */
export async function startApi(
  config: QuarryConfig,
  extraModules: Type[] = [],
): Promise<RunningApi> {
  const app = await createApiApp(config, { extraModules });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  let closed = false;
  return {
    app,
    baseUrl: `http://127.0.0.1:${port}`,
    metricsUrl: metricsUrlOf(app),
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
    },
  };
}

/** Deletes every Redis key under a test file's prefix. */
export const dropQueuePrefix = (prefix: string): Promise<number> => dropRedisPrefix(prefix);

/** Where this api serves Prometheus metrics (METRICS_PORT, a free port in tests). */
export function metricsUrlOf(app: NestExpressApplication): string {
  return `http://127.0.0.1:${app.get(MetricsHttpServer).port}`;
}
