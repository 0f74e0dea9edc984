import { Injectable } from '@nestjs/common';
import { QuarryConfig } from '@quarry/config';
import { withTryAdvisoryLock } from '@quarry/db';
import { IntegrityReport, IntegrityService } from './integrity.service';

export type { Finding, Overall, Repair } from './integrity.service';

/** What one reconcile run found and repaired. */
export type ReconcileReport = IntegrityReport;

/** Singleton across the fleet: the reconciler holds this advisory lock while it runs. */
export const RECONCILER_LOCK_KEY = '7231840002';

/**
 * Closes every gap the queue can leave. PostgreSQL records every intention, so after a
 * lost job, a killed worker or a Redis that forgot everything, the integrity fix puts
 * each document that should be moving back on the queue and removes what no document
 * owns any more. One runner at a time across the fleet: a transaction-level advisory
 * lock on a connection of its own (works through PgBouncer in transaction mode too).
 */
@Injectable()
export class ReconcilerService {
  constructor(
    private readonly integrity: IntegrityService,
    private readonly config: QuarryConfig,
  ) {}

  /** Runs once if no other process is reconciling; undefined when the lock was taken. */
  async reconcile({ fix }: { fix: boolean }): Promise<ReconcileReport | undefined> {
    return withTryAdvisoryLock(this.config.db, RECONCILER_LOCK_KEY, () =>
      this.integrity.check({ fix }),
    );
  }
}
