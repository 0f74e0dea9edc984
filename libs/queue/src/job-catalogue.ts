/**
 * The only contract between the api (producer) and the worker (consumer).
 *
 * Queue and job names are persisted in Redis with every job: renaming one strands the
 * jobs already queued under the old name. Treat a rename like a database migration
 * (drain the queue, or keep handling the old name for a release).
 */
export enum QueueName {
  Ingest = 'ingest',
  Cleanup = 'cleanup',
  Maintenance = 'maintenance',
}

export enum JobName {
  IngestDocument = 'ingest-document',
  CleanupDocument = 'cleanup-document',
  Reconcile = 'reconcile',
  PurgeTombstones = 'purge-tombstones',
}

export interface IngestDocumentData {
  documentId: string;
  generation: number;
}

export interface CleanupDocumentData {
  documentId: string;
  generation: number;
}

export interface ReconcileData {
  /** Repair what the check finds (the scheduled run does; an on-demand check may not). */
  fix: boolean;
}

export type PurgeTombstonesData = Record<string, never>;

export type JobItem =
  | { name: JobName.IngestDocument; data: IngestDocumentData }
  | { name: JobName.CleanupDocument; data: CleanupDocumentData }
  | { name: JobName.Reconcile; data: ReconcileData }
  | { name: JobName.PurgeTombstones; data: PurgeTombstonesData };

export type JobOf<N extends JobName> = Extract<JobItem, { name: N }>;
export type JobDataOf<N extends JobName> = JobOf<N>['data'];

/** Which queue carries each job. */
export const QUEUE_OF: { readonly [N in JobName]: QueueName } = {
  [JobName.IngestDocument]: QueueName.Ingest,
  [JobName.CleanupDocument]: QueueName.Cleanup,
  [JobName.Reconcile]: QueueName.Maintenance,
  [JobName.PurgeTombstones]: QueueName.Maintenance,
};

export const ALL_QUEUES: readonly QueueName[] = Object.values(QueueName);
export const ALL_JOBS: readonly JobName[] = Object.values(JobName);

/**
 * Deterministic job ids, so a retried enqueue de-duplicates instead of running twice.
 * BullMQ refuses custom ids containing ':' and ids that are plain integers: these
 * use '-' and always start with a word.
 */
export function jobIdFor(item: JobItem): string | undefined {
  switch (item.name) {
    case JobName.IngestDocument:
      return `ingest-${item.data.documentId}-${item.data.generation}`;
    case JobName.CleanupDocument:
      return `cleanup-${item.data.documentId}-${item.data.generation}`;
    case JobName.Reconcile:
    case JobName.PurgeTombstones:
      return undefined;
    default:
      return assertNever(item);
  }
}

export function assertNever(value: never): never {
  throw new Error(`unhandled job: ${JSON.stringify(value)}`);
}
