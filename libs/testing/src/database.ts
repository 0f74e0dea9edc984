import {
  Chunk,
  Collection,
  DbModuleOptions,
  Document,
  DocumentBlob,
  DocumentStatus,
  runMigrations,
} from '@quarry/db';
import { createHash, randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';

export interface TestDatabase {
  url: string;
  name: string;
  /** drops the database, ending any connection still open to it */
  drop(): Promise<void>;
}

export function testDatabaseAdminUrl(): string {
  return process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

/** DbModuleOptions for tests: small pool, short timeouts; override what a test is about. */
export function testDbOptions(
  url: string,
  overrides: Partial<DbModuleOptions> = {},
): DbModuleOptions {
  return {
    url,
    applicationName: `quarry-test-${process.pid}`,
    poolMax: 5,
    poolMin: 0,
    idleTimeoutMs: 10_000,
    acquireTimeoutMs: 2_000,
    maxLifetimeS: 0,
    statementTimeoutMs: 15_000,
    transactionTimeoutMs: 10_000,
    slowQueryMs: 1_000,
    migrationsRun: false,
    ...overrides,
  };
}

async function withAdmin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({
    connectionString: testDatabaseAdminUrl(),
    application_name: 'quarry-test-admin',
    connectionTimeoutMillis: 5_000,
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates a uniquely named database on the test server and applies the migrations.
 * Each test file gets its own, so files can run in parallel and leave nothing behind.
 */
export async function createTestDatabase(
  prefix = 'quarry_test',
  options: { migrate?: boolean } = {},
): Promise<TestDatabase> {
  const safe = prefix
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 40);
  const name = `${safe}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withAdmin((admin) => admin.query(`CREATE DATABASE "${name}"`));
  const url = new URL(testDatabaseAdminUrl());
  url.pathname = `/${name}`;
  const database: TestDatabase = {
    url: url.toString(),
    name,
    drop: () =>
      withAdmin(async (admin) => {
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      }),
  };
  if (options.migrate !== false) {
    try {
      await runMigrations(testDbOptions(database.url, { applicationName: 'quarry-test-migrate' }));
    } catch (err) {
      await database.drop();
      throw err;
    }
  }
  return database;
}

export function sha256Hex(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

/** Fills in whatever a status needs so the CHECK constraints accept the row. */
function statusDefaults(status: DocumentStatus): Partial<Document> {
  const now = new Date();
  switch (status) {
    case 'processing':
      return { processingStartedAt: now, heartbeatAt: now };
    case 'completed':
      return { processingStartedAt: now, processingCompletedAt: now, progress: 100 };
    case 'failed':
      return { error: 'failed in a test', attempts: 1 };
    case 'deleting':
      return { generation: 1 };
    case 'deleted':
      return { generation: 1, deletedAt: now };
    default:
      return {};
  }
}

/**
 * Fluent test-data builder:
 * `await documentFactory(ds, { status: 'completed' }).withChunks(3).create()`.
 */
export class DocumentFactory {
  private chunkTexts: string[] = [];
  private blob?: Buffer;
  private collectionId?: string;

  constructor(
    private readonly dataSource: DataSource,
    private readonly overrides: Partial<Document> = {},
  ) {}

  inCollection(collectionId: string): this {
    this.collectionId = collectionId;
    return this;
  }

  withChunks(countOrTexts: number | string[]): this {
    this.chunkTexts =
      typeof countOrTexts === 'number'
        ? Array.from({ length: countOrTexts }, (_, i) => `chunk ${i} of a test document`)
        : countOrTexts;
    return this;
  }

  withBlob(content: string | Buffer): this {
    this.blob = Buffer.isBuffer(content) ? content : Buffer.from(content);
    return this;
  }

  async create(): Promise<Document & { chunks: Chunk[] }> {
    return this.dataSource.transaction(async (manager) => {
      const ownerId = this.overrides.ownerId ?? 'owner-test';
      const collectionId =
        this.collectionId ??
        this.overrides.collectionId ??
        (
          await manager.save(
            manager.create(Collection, {
              ownerId,
              name: `collection ${randomBytes(3).toString('hex')}`,
            }),
          )
        ).id;
      const content = this.blob ?? Buffer.from(`test document ${randomBytes(6).toString('hex')}`);
      const status = this.overrides.status ?? 'pending';
      const document = await manager.save(
        manager.create(Document, {
          filename: 'test.txt',
          mimeType: 'text/plain',
          sizeBytes: content.length,
          sha256: sha256Hex(content),
          ...statusDefaults(status),
          ...this.overrides,
          ownerId,
          collectionId,
          status,
          chunkCount: this.overrides.chunkCount ?? this.chunkTexts.length,
        }),
      );
      await manager.save(manager.create(DocumentBlob, { documentId: document.id, content }));
      const chunks: Chunk[] = [];
      for (const [ordinal, text] of this.chunkTexts.entries()) {
        chunks.push(
          await manager.save(
            manager.create(Chunk, {
              documentId: document.id,
              generation: document.generation,
              ordinal,
              text,
              tokenCount: text.split(/\s+/).length,
              charStart: 0,
              charEnd: text.length,
            }),
          ),
        );
      }
      return Object.assign(document, { chunks });
    });
  }
}

export function documentFactory(
  dataSource: DataSource,
  overrides: Partial<Document> = {},
): DocumentFactory {
  return new DocumentFactory(dataSource, overrides);
}
