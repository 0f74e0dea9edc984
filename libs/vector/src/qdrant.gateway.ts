import {
  Inject,
  Injectable,
  Logger,
  OnApplicationShutdown,
  OnModuleInit,
  Optional,
} from '@nestjs/common';
import { QdrantClient, Schemas } from '@qdrant/js-client-rest';
import {
  MetricNames,
  MetricsService,
  ShutdownCoordinator,
  ShutdownPhase,
} from '@quarry/observability';
import type { Counter, Histogram } from 'prom-client';
import {
  ChunkPayload,
  ChunkPoint,
  PointFilter,
  ScoredPointId,
  StoredPoint,
  VectorCollectionInfo,
  VectorHit,
  VectorQuery,
  VectorSnapshot,
} from './chunk-point.types';
import { createCollectionBody, settingsMismatches, WriteOrdering } from './collection-settings';
import { backoffDelayMs, classifyFailure, FailureClass } from './retry-policy';
import {
  DownloadedSnapshot,
  downloadSnapshot,
  SnapshotEndpoint,
  uploadSnapshot,
} from './snapshot-transfer';
import {
  VectorCollectionMismatchError,
  VectorCollectionSettingsMismatchError,
  VectorStoreRequestError,
  VectorStoreUnavailableError,
} from './vector.errors';
import {
  DEFAULT_RETRY,
  VECTOR_MODULE_OPTIONS,
  VectorModuleOptions,
  VectorRetryOptions,
} from './vector-module-options';

/** Quarry's collections always hold one unnamed cosine vector per point. */
const DISTANCE = 'Cosine' as const;

/** Payload indexes bootstrap makes sure of; filters on these fields stay fast at scale. */
const PAYLOAD_INDEXES: ReadonlyArray<[keyof ChunkPayload, Schemas['PayloadSchemaType']]> = [
  ['document_id', 'keyword'],
  ['owner_id', 'keyword'],
  ['collection_id', 'keyword'],
  ['generation', 'integer'],
];

/** Qdrant's multitenancy guidance: the tenant key's index groups each owner's points together. */
const TENANT_FIELD: keyof ChunkPayload = 'owner_id';

const DEFAULT_UPSERT_BATCH = 256;
const DEFAULT_DELETE_BATCH = 1_000;
const DEFAULT_SCROLL_BATCH = 500;
const DEFAULT_RETRIEVE_BATCH = 1_000;

type Condition = Schemas['Condition'];
type Filter = Schemas['Filter'];

/**
 * The one class that talks to Qdrant. Every call goes through `call()`, which retries
 * transient failures with back-off, turns failures into typed errors, and records
 * metrics. Usable without Nest: `new QdrantGateway(options)` then `await bootstrap()`.
 */
@Injectable()
export class QdrantGateway implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('QdrantGateway');
  private readonly client: QdrantClient;
  /** a separate client whose own timeout is the probe's, so a probe never waits long */
  private readonly probeClient: QdrantClient;
  /** for calls that work on the whole collection (snapshots, index builds) */
  private readonly slowClient: QdrantClient;
  private readonly retry: VectorRetryOptions;
  private readonly duration?: Histogram<'operation' | 'outcome'>;
  private readonly errors?: Counter<'operation'>;
  private closed = false;
  private bootstrapped = false;
  private backgroundBootstrap?: NodeJS.Timeout;
  /** a mismatch found by a background bootstrap: readiness reports it until a restart */
  private fatalBootstrapError?: Error;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    @Inject(VECTOR_MODULE_OPTIONS) private readonly options: VectorModuleOptions,
    @Optional() metrics?: MetricsService,
    @Optional() private readonly shutdown?: ShutdownCoordinator,
  ) {
    if (!Number.isInteger(options.dimension) || options.dimension <= 0) {
      throw new TypeError(
        `Vector dimension must be a positive integer (EMBEDDING_DIM), got ${options.dimension}`,
      );
    }
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    // checkCompatibility would fire an unawaited request at construction; bootstrap
    // checks what matters (the collection) instead.
    const common = {
      url: options.url,
      apiKey: options.apiKey || undefined,
      checkCompatibility: false,
    };
    this.client = new QdrantClient({ ...common, timeout: options.timeoutMs });
    this.probeClient = new QdrantClient({ ...common, timeout: this.healthTimeoutMs });
    this.slowClient = new QdrantClient({ ...common, timeout: this.slowTimeoutMs });
    this.duration = metrics?.histogram<'operation' | 'outcome'>(
      MetricNames.qdrantRequestDuration,
      'Duration of Qdrant calls made by the vector gateway, retries included',
      ['operation', 'outcome'],
    );
    this.errors = metrics?.counter<'operation'>(
      MetricNames.qdrantErrorsTotal,
      'Failed Qdrant requests, counting every failed attempt (retried ones too)',
      ['operation'],
    );
  }

  get collection(): string {
    return this.options.collection;
  }

  /** Explicit, so replicas apply a document's upserts and deletes in one order. */
  private get ordering(): WriteOrdering {
    return this.options.writeOrdering ?? 'medium';
  }

  get dimension(): number {
    return this.options.dimension;
  }

  get healthTimeoutMs(): number {
    return this.options.healthTimeoutMs ?? 1_000;
  }

  private get slowTimeoutMs(): number {
    return Math.max(this.options.snapshotTimeoutMs ?? 600_000, this.options.timeoutMs);
  }

  async onModuleInit(): Promise<void> {
    this.shutdown?.register({
      name: 'qdrant',
      phase: ShutdownPhase.Qdrant,
      close: () => this.close(),
    });
    const mode = this.options.bootstrap ?? true;
    if (mode === false) return;
    try {
      await this.bootstrap();
    } catch (err) {
      if (mode !== 'when-available' || !(err instanceof VectorStoreUnavailableError)) throw err;
      this.logger.warn(
        `Qdrant is unavailable at start-up (${err.reason}); starting anyway and checking the ` +
          `collection every ${this.bootstrapRetryMs} ms until it answers`,
      );
      this.scheduleBackgroundBootstrap();
    }
  }

  /** True once bootstrap has succeeded in this process. */
  get isBootstrapped(): boolean {
    return this.bootstrapped;
  }

  private get bootstrapRetryMs(): number {
    return this.options.bootstrapRetryMs ?? 5_000;
  }

  private scheduleBackgroundBootstrap(): void {
    if (this.closed) return;
    this.backgroundBootstrap = setTimeout(() => {
      this.backgroundBootstrap = undefined;
      this.bootstrap().catch((err: unknown) => {
        if (err instanceof VectorStoreUnavailableError) return this.scheduleBackgroundBootstrap();
        this.fatalBootstrapError = err instanceof Error ? err : new Error(String(err));
        this.logger.error(`Qdrant collection check failed: ${this.fatalBootstrapError.message}`);
      });
    }, this.bootstrapRetryMs);
    this.backgroundBootstrap.unref();
  }

  /** Without a ShutdownCoordinator (plain Nest contexts in tests) close on app close. */
  async onApplicationShutdown(): Promise<void> {
    if (!this.shutdown) await this.close();
  }

  /**
   * Refuses new calls and waits for the ones in flight. The REST client keeps only idle
   * keep-alive sockets, which do not hold the process open and time out on their own.
   */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.backgroundBootstrap);
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  // ---------------------------------------------------------------- collection

  /**
   * Creates the collection when missing and makes sure of its payload indexes; refuses a
   * collection whose vectors do not match. Idempotent, and safe when several processes
   * start at once.
   */
  async bootstrap(): Promise<VectorCollectionInfo> {
    const { collection, dimension } = this.options;
    const { exists } = await this.call('collection_exists', () =>
      this.client.collectionExists(collection),
    );
    if (!exists) await this.createCollection();
    const info = await this.call('get_collection', () => this.client.getCollection(collection));
    this.assertShape(info);
    const mismatches = settingsMismatches(info, this.options.collectionSettings ?? {});
    if (mismatches.length > 0) {
      throw new VectorCollectionSettingsMismatchError(collection, mismatches);
    }
    await this.ensurePayloadIndexes(info.payload_schema);
    const ready = await this.collectionInfo();
    this.bootstrapped = true;
    this.logger.log(
      `collection "${collection}" ready: ${dimension} dimensions, ${DISTANCE}, ${ready.pointsCount} points`,
    );
    return ready;
  }

  async collectionInfo(): Promise<VectorCollectionInfo> {
    const name = this.options.collection;
    let info: Schemas['CollectionInfo'];
    try {
      info = await this.call('get_collection', () => this.client.getCollection(name));
    } catch (err) {
      if (err instanceof VectorStoreRequestError && err.statusCode === 404) {
        return {
          name,
          exists: false,
          dimension: null,
          distance: null,
          pointsCount: 0,
          status: null,
          payloadIndexes: {},
        };
      }
      throw err;
    }
    const vectors = unnamedVectorParams(info.config.params.vectors);
    const payloadIndexes: Record<string, string> = {};
    for (const [field, index] of Object.entries(info.payload_schema)) {
      if (index) payloadIndexes[field] = index.data_type;
    }
    return {
      name,
      exists: true,
      dimension: vectors?.size ?? null,
      distance: vectors?.distance ?? null,
      pointsCount: info.points_count ?? 0,
      status: info.status,
      payloadIndexes,
    };
  }

  /** Drops the collection (hard reset). Returns false when there was none. */
  async deleteCollection(): Promise<boolean> {
    return this.call('delete_collection', () =>
      this.client.deleteCollection(this.options.collection),
    );
  }

  // ---------------------------------------------------------------- writes

  /** Upserts with `wait=true` in batches, so a resolved call means searchable points. */
  async upsertChunks(
    points: readonly ChunkPoint[],
    { batchSize = DEFAULT_UPSERT_BATCH }: { batchSize?: number } = {},
  ): Promise<void> {
    for (let start = 0; start < points.length; start += batchSize) {
      const batch = points.slice(start, start + batchSize).map((point) => ({
        id: point.id,
        vector: Array.from(point.vector),
        payload: { ...point.payload },
      }));
      await this.call('upsert', () =>
        this.client.upsert(this.options.collection, {
          wait: true,
          ordering: this.ordering,
          points: batch,
        }),
      );
    }
  }

  /**
   * Deletes a document's points by payload filter (`wait=true`): all of them, only one
   * generation, or every generation but the current one (after a reprocess swap).
   */
  async deleteByDocument(
    documentId: string,
    { generation, exceptGeneration }: { generation?: number; exceptGeneration?: number } = {},
  ): Promise<void> {
    // An empty filter would match the whole collection.
    if (typeof documentId !== 'string' || documentId.length === 0) {
      throw new TypeError('QdrantGateway.deleteByDocument: documentId is required');
    }
    const filter = toQdrantFilter({ documentId, generation, exceptGeneration });
    await this.call('delete_by_document', () =>
      this.client.delete(this.options.collection, { wait: true, ordering: this.ordering, filter }),
    );
  }

  async deletePoints(
    ids: readonly string[],
    { batchSize = DEFAULT_DELETE_BATCH }: { batchSize?: number } = {},
  ): Promise<void> {
    for (let start = 0; start < ids.length; start += batchSize) {
      const points = ids.slice(start, start + batchSize);
      await this.call('delete_points', () =>
        this.client.delete(this.options.collection, {
          wait: true,
          ordering: this.ordering,
          points,
        }),
      );
    }
  }

  // ---------------------------------------------------------------- reads

  /** Nearest chunks of one owner's documents. The owner filter cannot be left out. */
  async query(request: VectorQuery): Promise<VectorHit[]> {
    const points = await this.nearest(request, true);
    return points.map((point) => ({
      id: String(point.id),
      score: point.score,
      payload: toChunkPayload(point.payload),
    }));
  }

  /**
   * Like `query`, for callers that check every candidate in PostgreSQL anyway (search):
   * ids and scores only, so Qdrant sends, and the client parses, no payloads.
   */
  async queryIds(request: VectorQuery): Promise<ScoredPointId[]> {
    const points = await this.nearest(request, false);
    return points.map((point) => ({ id: String(point.id), score: point.score }));
  }

  private async nearest(request: VectorQuery, withPayload: boolean) {
    if (typeof request.ownerId !== 'string' || request.ownerId.length === 0) {
      throw new TypeError('QdrantGateway.query: ownerId is required');
    }
    if (request.collectionIds?.length === 0 || request.documentIds?.length === 0) return [];
    const must: Condition[] = [matchValue('owner_id', request.ownerId)];
    if (request.collectionIds) must.push(matchAny('collection_id', request.collectionIds));
    if (request.documentIds) must.push(matchAny('document_id', request.documentIds));
    const result = await this.call('query', () =>
      this.client.query(this.options.collection, {
        query: Array.from(request.vector),
        filter: { must },
        limit: request.limit,
        offset: request.offset,
        score_threshold: request.scoreThreshold,
        with_payload: withPayload,
        with_vector: false,
      }),
    );
    return result.points;
  }

  /** Points by id (those that exist), without vectors. */
  async retrieve(
    ids: readonly string[],
    { batchSize = DEFAULT_RETRIEVE_BATCH }: { batchSize?: number } = {},
  ): Promise<StoredPoint[]> {
    const found: StoredPoint[] = [];
    for (let start = 0; start < ids.length; start += batchSize) {
      const batch = ids.slice(start, start + batchSize);
      const records = await this.call('retrieve', () =>
        this.client.retrieve(this.options.collection, {
          ids: batch,
          with_payload: true,
          with_vector: false,
        }),
      );
      for (const record of records) found.push(toStoredPoint(record));
    }
    return found;
  }

  /** Pages of one document's points (all generations unless given). */
  scrollDocumentPoints(
    documentId: string,
    {
      batchSize = DEFAULT_SCROLL_BATCH,
      generation,
    }: { batchSize?: number; generation?: number } = {},
  ): AsyncGenerator<StoredPoint[]> {
    return this.scrollPages(
      'scroll_document',
      toQdrantFilter({ documentId, generation }),
      batchSize,
    );
  }

  /**
   * Pages of every point in the collection, for integrity checks. Memory stays at one
   * page whatever the collection's size; points written meanwhile may or may not appear.
   */
  scrollAll({ batchSize = DEFAULT_SCROLL_BATCH }: { batchSize?: number } = {}): AsyncGenerator<
    StoredPoint[]
  > {
    return this.scrollPages('scroll_all', undefined, batchSize);
  }

  /** Exact count of the points matching every given condition (all points when empty). */
  async count(filter: PointFilter = {}): Promise<number> {
    const qdrantFilter = toQdrantFilter(filter);
    const result = await this.call('count', () =>
      this.client.count(this.options.collection, {
        filter: isEmptyFilter(qdrantFilter) ? undefined : qdrantFilter,
        exact: true,
      }),
    );
    return result.count;
  }

  async countByDocument(documentId: string, { generation }: { generation?: number } = {}) {
    return this.count({ documentId, generation });
  }

  // ---------------------------------------------------------------- snapshots

  /** Creates a collection snapshot (waiting for it) and returns its name. */
  async createSnapshot(): Promise<string> {
    const description = await this.call('create_snapshot', () =>
      this.slowClient.createSnapshot(this.options.collection, { wait: true }),
    );
    if (!description) {
      throw new VectorStoreRequestError('create_snapshot', 200, 'Qdrant returned no snapshot');
    }
    return description.name;
  }

  async listSnapshots(): Promise<VectorSnapshot[]> {
    const snapshots = await this.call('list_snapshots', () =>
      this.client.listSnapshots(this.options.collection),
    );
    return snapshots.map((s) => ({
      name: s.name,
      size: s.size,
      createdAt: s.creation_time ?? null,
      checksum: s.checksum ?? null,
    }));
  }

  /**
   * Streams a snapshot into a local file (for off-site backups) and returns its size and
   * SHA-256, which `recoverFromSnapshotFile` can verify on the way back.
   */
  async downloadSnapshot(name: string, destination: string): Promise<DownloadedSnapshot> {
    return this.call('download_snapshot', () =>
      downloadSnapshot(this.snapshotEndpoint(), name, destination),
    );
  }

  /**
   * Replaces the collection's contents with a snapshot file (creating the collection when
   * missing). Run `bootstrap()` afterwards to re-check its shape and indexes.
   */
  async recoverFromSnapshotFile(file: string, { checksum }: { checksum?: string } = {}) {
    return this.call('recover_snapshot', () =>
      uploadSnapshot(this.snapshotEndpoint(), file, { checksum }),
    );
  }

  async deleteSnapshot(name: string): Promise<boolean> {
    return this.call('delete_snapshot', () =>
      this.client.deleteSnapshot(this.options.collection, name, { wait: true }),
    );
  }

  // ---------------------------------------------------------------- health

  /**
   * One cheap readiness request, without retries, bounded by the probe timeout. Also fails
   * while a background bootstrap has found the collection unusable.
   */
  async ping(): Promise<void> {
    if (this.closed) throw new VectorStoreUnavailableError('ping', 0, 'gateway is closed');
    if (this.fatalBootstrapError) throw this.fatalBootstrapError;
    try {
      await this.probeClient.api().readyz({});
    } catch (err) {
      throw this.toError('ping', classifyFailure(err), 1, err);
    }
  }

  // ---------------------------------------------------------------- internals

  private snapshotEndpoint(): SnapshotEndpoint {
    const { url, apiKey, collection } = this.options;
    return { url, apiKey: apiKey || undefined, collection, timeoutMs: this.slowTimeoutMs };
  }

  private async createCollection(): Promise<void> {
    const { collection, dimension } = this.options;
    try {
      await this.call('create_collection', () =>
        this.client.createCollection(
          collection,
          createCollectionBody(dimension, this.options.collectionSettings ?? {}),
        ),
      );
      this.logger.log(`created collection "${collection}" (${dimension} dimensions, ${DISTANCE})`);
    } catch (err) {
      // Another process created it between our check and our create: that is fine.
      const conflict =
        err instanceof VectorStoreRequestError &&
        (err.statusCode === 409 || /already exists/i.test(err.qdrantMessage));
      if (!conflict) throw err;
    }
  }

  private assertShape(info: Schemas['CollectionInfo']): void {
    const expected = { dimension: this.options.dimension, distance: DISTANCE };
    const vectors = unnamedVectorParams(info.config.params.vectors);
    if (!vectors) {
      throw new VectorCollectionMismatchError(this.options.collection, expected, {
        dimension: null,
        distance: null,
        namedVectors: true,
      });
    }
    if (vectors.size !== expected.dimension || vectors.distance !== expected.distance) {
      throw new VectorCollectionMismatchError(this.options.collection, expected, {
        dimension: vectors.size,
        distance: vectors.distance,
      });
    }
  }

  private async ensurePayloadIndexes(schema: Schemas['CollectionInfo']['payload_schema']) {
    for (const [field, type] of PAYLOAD_INDEXES) {
      const tenant = field === TENANT_FIELD;
      const existing = schema[field];
      const isTenant = (existing?.params as { is_tenant?: boolean | null } | undefined)?.is_tenant;
      if (existing?.data_type === type && (!tenant || isTenant === true)) continue;
      // Creating the index again with other parameters replaces it (an older collection's
      // owner_id index becomes the tenant key).
      await this.call('create_payload_index', () =>
        this.slowClient.createPayloadIndex(this.options.collection, {
          field_name: field,
          field_schema: tenant ? { type: 'keyword', is_tenant: true } : type,
          wait: true,
        }),
      );
    }
  }

  private async *scrollPages(
    operation: string,
    filter: Filter | undefined,
    batchSize: number,
  ): AsyncGenerator<StoredPoint[]> {
    let offset: string | number | undefined;
    do {
      const from = offset;
      const page = await this.call(operation, () =>
        this.client.scroll(this.options.collection, {
          filter,
          limit: batchSize,
          offset: from,
          with_payload: true,
          with_vector: false,
        }),
      );
      if (page.points.length > 0) yield page.points.map(toStoredPoint);
      const next = page.next_page_offset;
      offset = typeof next === 'string' || typeof next === 'number' ? next : undefined;
    } while (offset !== undefined);
  }

  private async call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    if (this.closed) {
      throw new VectorStoreUnavailableError(operation, 0, 'gateway is closed (shutting down)');
    }
    this.inFlight++;
    const stopTimer = this.duration?.startTimer({ operation });
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          const result = await fn();
          stopTimer?.({ outcome: 'ok' });
          return result;
        } catch (err) {
          this.errors?.inc({ operation });
          const failure = classifyFailure(err);
          if (failure.kind === 'transient' && attempt < this.retry.attempts && !this.closed) {
            const delay = backoffDelayMs(attempt, this.retry);
            this.logger.warn(
              `${operation} failed (${failure.reason}); retry ${attempt}/${this.retry.attempts - 1} in ${delay} ms`,
            );
            await sleep(delay);
            continue;
          }
          stopTimer?.({ outcome: 'error' });
          throw this.toError(operation, failure, attempt, err);
        }
      }
    } finally {
      this.inFlight--;
      if (this.inFlight === 0 && this.idleWaiters.length > 0) {
        for (const resolve of this.idleWaiters.splice(0)) resolve();
      }
    }
  }

  private toError(operation: string, failure: FailureClass, attempts: number, cause: unknown) {
    switch (failure.kind) {
      case 'transient':
        return new VectorStoreUnavailableError(operation, attempts, failure.reason, { cause });
      case 'rejected':
        return new VectorStoreRequestError(operation, failure.statusCode, failure.message, {
          cause,
        });
      case 'unknown':
        return cause;
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function unnamedVectorParams(
  vectors: Schemas['VectorsConfig'] | undefined,
): Schemas['VectorParams'] | undefined {
  if (vectors && typeof (vectors as Schemas['VectorParams']).size === 'number') {
    return vectors as Schemas['VectorParams'];
  }
  return undefined;
}

function matchValue(key: string, value: string | number): Condition {
  return { key, match: { value } };
}

function matchAny(key: string, values: readonly string[]): Condition {
  return { key, match: { any: [...values] } };
}

/** All of the filter's conditions as a Qdrant filter; `{}` (everything) when it has none. */
export function toQdrantFilter(filter: PointFilter): Filter {
  const must: Condition[] = [];
  const mustNot: Condition[] = [];
  if (filter.documentId !== undefined) must.push(matchValue('document_id', filter.documentId));
  if (filter.ownerId !== undefined) must.push(matchValue('owner_id', filter.ownerId));
  if (filter.collectionId !== undefined) {
    must.push(matchValue('collection_id', filter.collectionId));
  }
  if (filter.generation !== undefined) must.push(matchValue('generation', filter.generation));
  if (filter.exceptGeneration !== undefined) {
    mustNot.push(matchValue('generation', filter.exceptGeneration));
  }
  return {
    ...(must.length > 0 && { must }),
    ...(mustNot.length > 0 && { must_not: mustNot }),
  };
}

function isEmptyFilter(filter: Filter): boolean {
  return !filter.must && !filter.must_not && !filter.should;
}

/**
 * Reads a payload field by field. A point someone else wrote with a broken payload comes
 * back with empty/NaN fields, so an integrity check reports it as an orphan.
 */
function toChunkPayload(raw: unknown): ChunkPayload {
  const p = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  const int = (v: unknown) => (typeof v === 'number' ? v : Number.NaN);
  return {
    document_id: text(p.document_id),
    collection_id: text(p.collection_id),
    owner_id: text(p.owner_id),
    generation: int(p.generation),
    ordinal: int(p.ordinal),
  };
}

function toStoredPoint(record: Schemas['Record']): StoredPoint {
  return { id: String(record.id), payload: toChunkPayload(record.payload) };
}
