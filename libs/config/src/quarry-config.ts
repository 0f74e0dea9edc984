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
  http!: {
    port: number;
    workerPort: number;
    metricsPort: number;
    jsonMaxBytes: number;
    jsonMaxDepth: number;
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    keepAliveTimeoutMs: number;
  };
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
    preparedStatements: boolean;
  };
  /** shaped as libs/queue's RedisEndpoint, plus the key prefix */
  redis!: {
    url: string;
    prefix: string;
    sentinels?: { host: string; port: number }[];
    sentinelName: string;
    sentinelPassword?: string;
    username?: string;
    password?: string;
    tlsCaFile?: string;
  };
  qdrant!: {
    url: string;
    apiKey?: string;
    collection: string;
    dimension: number;
    timeoutMs: number;
    /** shaped as libs/vector's VectorCollectionSettings; unset fields keep Qdrant's defaults */
    collectionSettings: {
      shardNumber?: number;
      replicationFactor?: number;
      writeConsistencyFactor?: number;
      onDiskVectors?: boolean;
      onDiskPayload?: boolean;
      hnswM?: number;
      hnswEfConstruct?: number;
      quantization?: 'scalar';
    };
    writeOrdering: 'weak' | 'medium' | 'strong';
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
  chunking!: { chunkSize: number; chunkOverlap: number; maxChunks: number };
  /** Caps on one document's extraction; see the README's configuration table. */
  extraction!: {
    threads: number;
    timeoutMs: number;
    maxHeapMb: number;
    maxPages: number;
    maxChars: number;
    docxMaxUncompressedBytes: number;
    docxMaxRatio: number;
    docxMaxEntries: number;
  };
  upload!: { maxBytes: number; inflightMaxBytes: number; tmpDir?: string };
  /** per-minute budgets held in Redis (0: off) */
  limits!: {
    uploadsPerMin: number;
    searchesPerMin: number;
    authFailuresPerMin: number;
    uploadsPerKey: number;
    streamsPerKey: number;
    streamMaxMs: number;
  };
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
