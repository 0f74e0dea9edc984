import { Injectable } from '@nestjs/common';
import { QuarryConfig } from '@quarry/config';
import { Client } from 'pg';
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
 * owns any more. One runner at a time across the fleet: a session-level advisory lock
 * on a connection of its own (not a pooled one a transaction could hand back early).
 */
@Injectable()
export class ReconcilerService {
  constructor(
    private readonly integrity: IntegrityService,
    private readonly config: QuarryConfig,
  ) {}

  /** Runs once if no other process is reconciling; undefined when the lock was taken. */
  async reconcile({ fix }: { fix: boolean }): Promise<ReconcileReport | undefined> {
    const lock = new Client({
      connectionString: this.config.db.url,
      application_name: `${this.config.db.applicationName}-lock`,
      connectionTimeoutMillis: 5_000,
    });
    lock.on('error', () => undefined);
    try {
      await lock.connect();
      const [{ locked }] = (
        await lock.query(`SELECT pg_try_advisory_lock($1::bigint) AS locked`, [RECONCILER_LOCK_KEY])
      ).rows as { locked: boolean }[];
      if (!locked) return undefined;
      try {
        return await this.integrity.check({ fix });
      } finally {
        await lock
          .query(`SELECT pg_advisory_unlock($1::bigint)`, [RECONCILER_LOCK_KEY])
          .catch(() => undefined);
      }
    } finally {
      await lock.end().catch(() => undefined);
    }
  }
}
