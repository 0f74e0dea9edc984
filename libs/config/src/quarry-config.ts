import type { NodeEnv } from './environment-variables';

export type AppName = 'api' | 'worker' | 'cli' | 'test';

/**
 * The typed configuration tree every app receives. Shapes line up with the options
 * of DbModule and VectorModule so a section can be handed over as it is.
 */
export class QuarryConfig {
  env!: NodeEnv;
  app!: AppName;
  isProduction!: boolean;
  http!: { port: number; workerPort: number };
  log!: { level: string; pretty: boolean };
  db!: {
    url: string;
    readUrl?: string;
    applicationName: string;
    poolMax: number;
    poolMin: number;
    idleTimeoutMs: number;
    acquireTimeoutMs: number;
    maxLifetimeS: number;
    statementTimeoutMs: number;
    transactionTimeoutMs: number;
    slowQueryMs: number;
    migrationsRun: boolean;
  };
  redis!: { url: string; prefix: string };
  qdrant!: {
    url: string;
    apiKey?: string;
    collection: string;
    dimension: number;
    timeoutMs: number;
  };
  embedding!: {
    provider: 'hashing' | 'openai' | 'local';
    model: string;
    dimension: number;
    batchSize: number;
    baseUrl?: string;
    apiKey?: string;
    timeoutMs: number;
    modelPath?: string;
    threads: number;
    pooling?: 'mean' | 'cls';
    queryPrefix?: string;
    passagePrefix?: string;
    maxTokens?: number;
    /** hybrid fusion weights; unset ones come from the embedder's profile */
    fusion: { semantic?: number; keyword?: number };
  };
  chunking!: { chunkSize: number; chunkOverlap: number };
  upload!: { maxBytes: number };
  worker!: {
    concurrency: number;
    ingestMaxAttempts: number;
    cleanupMaxAttempts: number;
    lockDurationMs: number;
  };
  maintenance!: {
    reconcileIntervalMs: number;
    staleHeartbeatMs: number;
    tombstoneRetentionDays: number;
  };
  shutdown!: { graceMs: number };
  auth!: {
    devApiKey?: string;
    /** verified keys are trusted this long per process; 0 checks every request */
    keyCacheTtlMs: number;
    bullBoardUser?: string;
    bullBoardPassword?: string;
  };
}
