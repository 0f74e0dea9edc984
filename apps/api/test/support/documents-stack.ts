import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ConfigOverrides, loadConfig, QuarryConfig } from '@quarry/config';
import { ApiKeysService } from '@quarry/documents';
import { createTestDatabase, dropRedisPrefix, freePort, TestDatabase } from '@quarry/testing';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { workerModuleFor } from '../../../worker/src/worker-processors';
import { createApiApp } from '../../src/create-api-app';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const QDRANT_URL = process.env.QDRANT_URL ?? 'http://127.0.0.1:6333';

export interface StackOptions {
  /** run the real worker in-process, so uploads reach completed */
  worker?: boolean;
  overrides?: ConfigOverrides;
}

/** The api (and optionally a worker) over a database, Redis prefix and Qdrant collection of its own. */
export interface DocumentsStack {
  app: NestExpressApplication;
  config: QuarryConfig;
  baseUrl: string;
  /** a fresh API key for an owner; returns the bearer header value */
  keyFor(ownerId: string, role?: 'user' | 'admin'): Promise<string>;
  close(): Promise<void>;
}

/** A port nothing listens on right now. */
export async function startDocumentsStack(
  name: string,
  options: StackOptions = {},
): Promise<DocumentsStack> {
  const suffix = randomBytes(4).toString('hex');
  const prefix = `quarry-test-${name}-${suffix}`;
  const collection = `quarry_test_${name.replace(/[^a-z0-9]/gi, '_')}_${suffix}`;
  const db: TestDatabase = await createTestDatabase(`api_${name}`);
  const settings = (app: 'api' | 'worker', port: number): QuarryConfig =>
    loadConfig({
      app,
      env: {},
      overrides: {
        NODE_ENV: 'test',
        DATABASE_URL: db.url,
        REDIS_URL,
        QUEUE_PREFIX: prefix,
        QDRANT_URL,
        QDRANT_COLLECTION: collection,
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
        LOG_PRETTY: false,
        WORKER_HTTP_PORT: port,
        SHUTDOWN_GRACE_MS: 5_000,
        ...options.overrides,
      },
    });
  const config = settings('api', 1);
  let worker: INestApplicationContext | undefined;
  let app: NestExpressApplication | undefined;
  const close = async (): Promise<void> => {
    await app?.close().catch(() => undefined);
    await worker?.close().catch(() => undefined);
    await db.drop().catch(() => undefined);
    await dropRedisPrefix(prefix).catch(() => undefined);
    await fetch(`${QDRANT_URL}/collections/${collection}`, { method: 'DELETE' }).catch(
      () => undefined,
    );
  };
  try {
    if (options.worker) {
      worker = await NestFactory.createApplicationContext(
        workerModuleFor(settings('worker', await freePort())),
        { logger: false },
      );
      await worker.init();
    }
    app = await createApiApp(config);
    await app.listen(0, '127.0.0.1');
  } catch (err) {
    await close();
    throw err;
  }
  const api = app;
  const { port } = api.getHttpServer().address() as AddressInfo;
  return {
    app: api,
    config,
    baseUrl: `http://127.0.0.1:${port}`,
    async keyFor(ownerId, role = 'user') {
      const created = await api.get(ApiKeysService).create({ ownerId, role });
      return `Bearer ${created.key}`;
    },
    close,
  };
}

/** Polls until `check` returns a value, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
