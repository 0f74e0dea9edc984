import type { JobsOptions } from 'bullmq';
import { JobName, assertNever } from './job-catalogue';

export interface JobPolicyOptions {
  ingestMaxAttempts: number;
  cleanupMaxAttempts: number;
}

/** Custom backoff type for cleanup: 2 s, 5 s, 10 s, 20 s, 40 s … capped at 5 min. */
export const CLEANUP_BACKOFF = 'cleanup-steps';
const CLEANUP_STEPS_MS = [2_000, 5_000, 10_000];
const CLEANUP_CAP_MS = 5 * 60_000;

/** BullMQ `settings.backoffStrategy` for workers; answers for the custom types only. */
export function backoffStrategy(attemptsMade: number, type?: string): number {
  if (type === CLEANUP_BACKOFF) {
    const step = CLEANUP_STEPS_MS[attemptsMade - 1];
    if (step !== undefined) return step;
    const last = CLEANUP_STEPS_MS[CLEANUP_STEPS_MS.length - 1];
    return Math.min(last * 2 ** (attemptsMade - CLEANUP_STEPS_MS.length), CLEANUP_CAP_MS);
  }
  return 1_000;
}

// Finished jobs are kept for a while for the dashboard, bounded so Redis never grows
// without limit; PostgreSQL holds the lasting record.
const KEEP_COMPLETED = { age: 24 * 3600, count: 1_000 };
const KEEP_FAILED = { age: 7 * 24 * 3600, count: 5_000 };

/** Attempts, backoff and retention for every job: decided here and nowhere else. */
export function jobOptionsFor(name: JobName, policy: JobPolicyOptions): JobsOptions {
  const base: JobsOptions = { removeOnComplete: KEEP_COMPLETED, removeOnFail: KEEP_FAILED };
  switch (name) {
    case JobName.IngestDocument:
      return {
        ...base,
        attempts: policy.ingestMaxAttempts,
        backoff: { type: 'exponential', delay: 2_000 },
      };
    case JobName.CleanupDocument:
      return { ...base, attempts: policy.cleanupMaxAttempts, backoff: { type: CLEANUP_BACKOFF } };
    case JobName.Reconcile:
    case JobName.PurgeTombstones:
      return { ...base, attempts: 1, removeOnComplete: { count: 50 }, removeOnFail: { count: 50 } };
    default:
      return assertNever(name);
  }
}
