import { INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadConfig, QuarryConfig } from '@quarry/config';
import { CoreModule } from '@quarry/core';
import { CollectionsService, DocumentsService } from '@quarry/documents';
import { createTestDatabase, TestDatabase } from '@quarry/testing';
import { QdrantGateway, StoredPoint } from '@quarry/vector';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { NodeProcess, compiled } from '../../../api/test/support/node-process';

/**
 * A database, queue prefix and Qdrant collection of the test's own, the domain services
 * in-process (for uploads and assertions), and workers spawned as real processes.
 */
export interface IngestHarness {
  env: Record<string, string>;
  config: QuarryConfig;
  documents: DocumentsService;
  collections: CollectionsService;
  vectors: QdrantGateway;
  dataSource: DataSource;
  spawnWorker(extraEnv?: Record<string, string>): Promise<NodeProcess>;
  waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T>;
  pointsOf(documentId: string): Promise<StoredPoint[]>;
  close(): Promise<void>;
}

export async function startIngestHarness(
  name: string,
  env: Record<string, string>,
): Promise<IngestHarness> {
  const suffix = randomBytes(4).toString('hex');
  const db: TestDatabase = await createTestDatabase(`worker_${name}`);
  const fullEnv: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATABASE_URL: db.url,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    QDRANT_URL: process.env.QDRANT_URL ?? 'http://127.0.0.1:6333',
    QUEUE_PREFIX: `quarry-test-${name}-${suffix}`,
    QDRANT_COLLECTION: `quarry_test_${name.replace(/\W/g, '_')}_${suffix}`,
    WORKER_HTTP_PORT: '0',
    ...env,
  };
  const config = loadConfig({ app: 'test', env: fullEnv });

  @Module({ imports: [CoreModule.forRoot({ config, queueRole: 'producer' })] })
  class HarnessModule {}
  const { DocumentsModule } = await import('@quarry/documents');
  @Module({ imports: [HarnessModule, DocumentsModule] })
  class RootModule {}
  const context: INestApplicationContext = await NestFactory.createApplicationContext(RootModule, {
    logger: ['error'],
  });
  await context.init();
  const workers: NodeProcess[] = [];

  return {
    env: fullEnv,
    config,
    documents: context.get(DocumentsService),
    collections: context.get(CollectionsService),
    vectors: context.get(QdrantGateway),
    dataSource: context.get(DataSource),
    async spawnWorker(extraEnv = {}) {
      const worker = new NodeProcess(compiled('apps/worker/src/main.js'), [], {
        ...(process.env as Record<string, string>),
        ...fullEnv,
        LOG_PRETTY: 'false',
        LOG_LEVEL: 'info',
        ...extraEnv,
      });
      workers.push(worker);
      await worker.waitForOutput(/processing ingest/, 30_000);
      return worker;
    },
    async waitFor(probe, timeoutMs, what) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = await probe();
        if (value !== undefined) return value;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async pointsOf(documentId) {
      const points: StoredPoint[] = [];
      for await (const page of context.get(QdrantGateway).scrollDocumentPoints(documentId))
        points.push(...page);
      return points;
    },
    async close() {
      await Promise.all(workers.map((w) => w.stop()));
      await context
        .get(QdrantGateway)
        .deleteCollection()
        .catch(() => undefined);
      await context.close();
      await db.drop();
    },
  };
}

/** Text that chunks into about `chunks` pieces of CHUNK_SIZE=200. */
export function longText(topic: string, chunks: number): string {
  const sentences: string[] = [];
  for (let i = 0; i < chunks * 3; i++) {
    sentences.push(`Paragraph ${i} about ${topic} carries its own words number ${i * 7} and more.`);
    if (i % 3 === 2) sentences.push('\n\n');
  }
  return sentences.join(' ');
}
