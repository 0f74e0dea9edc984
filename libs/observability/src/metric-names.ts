/**
 * Every Prometheus metric Quarry exposes, in one place. Alert rules and dashboards under
 * k8s/ are checked against this list, so a rename here must be made there too.
 */
export const MetricNames = {
  /** histogram {method, route, status_code} — api and worker HTTP ports */
  httpRequestDuration: 'quarry_http_request_duration_seconds',
  /** gauge — bytes of uploads the api has admitted and not yet answered */
  uploadInflightBytes: 'quarry_api_upload_inflight_bytes',
  /** gauge {queue, state: waiting|active|delayed|failed|completed|paused|prioritized} */
  queueJobs: 'quarry_queue_jobs',
  /** gauge {queue} — age of the oldest waiting job */
  queueOldestWaitingSeconds: 'quarry_queue_oldest_waiting_seconds',
  /** histogram {queue, job_name, outcome: completed|failed|skipped} */
  jobDuration: 'quarry_job_duration_seconds',
  /** counter {queue, job_name} — jobs whose last attempt failed */
  jobsFailedTotal: 'quarry_jobs_failed_total',
  /** gauge {status} */
  documents: 'quarry_documents',
  /** gauge {pool: primary|replica, state: total|idle|waiting} */
  dbPoolConnections: 'quarry_db_pool_connections',
  /** counter {pool} */
  dbSlowQueriesTotal: 'quarry_db_slow_queries_total',
  /** counter {pool, code} */
  dbConnectionErrorsTotal: 'quarry_db_connection_errors_total',
  /** counter {outcome: commit|rollback} */
  dbTransactionsTotal: 'quarry_db_transactions_total',
  /** counter — acquire timeouts turned into 503 */
  dbPoolExhaustedTotal: 'quarry_db_pool_exhausted_total',
  /** gauge {kind: orphan_points|missing_points|stale_processing|stuck_deleting|pending_without_job|failed_jobs} */
  reconcilerFindings: 'quarry_reconciler_findings',
  /** counter {kind} */
  reconcilerRepairsTotal: 'quarry_reconciler_repairs_total',
  /** gauge — 0 healthy, 1 warning, 2 critical (last integrity check) */
  integrityStatus: 'quarry_integrity_status',
  /** histogram {operation, outcome: ok|error} */
  qdrantRequestDuration: 'quarry_qdrant_request_duration_seconds',
  /** counter {operation} */
  qdrantErrorsTotal: 'quarry_qdrant_errors_total',
} as const;

export type MetricName = (typeof MetricNames)[keyof typeof MetricNames];
