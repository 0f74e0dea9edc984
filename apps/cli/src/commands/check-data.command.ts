import { Logger } from '@nestjs/common';
import { QuarryConfig } from '@quarry/config';
import { createDataSource, DbService } from '@quarry/db';
import {
  Finding,
  IntegrityReport,
  IntegrityService,
  Overall,
  ReconcilerService,
} from '@quarry/documents';
import { ALL_QUEUES, createRedisConnection, JobQueueService, QueueName } from '@quarry/queue';
import { QdrantGateway } from '@quarry/vector';
import { Queue } from 'bullmq';
import Table from 'cli-table3';
import { Command, CommandRunner, Option } from 'nest-commander';
import type { DataSource } from 'typeorm';
import { CliOutput } from '../cli-output';

interface CheckDataOptions {
  fix?: boolean;
  json?: boolean;
}

export const CHECK_DATA_COMMAND = 'check-data';

const EXIT: Record<Overall, number> = { healthy: 0, warning: 1, critical: 2 };
const MARK: Record<Overall, string> = { healthy: '✅', warning: '⚠️ ', critical: '❌' };
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * `quarry check-data [--fix] [--json]`: the integrity report as a table, exit 0 / 1 / 2
 * for healthy / warning / critical. It opens its own connections (not the app's, which
 * refuse to start without their dependency), so an unreachable PostgreSQL, Redis or
 * Qdrant is reported as `critical` instead of failing the command.
 */
@Command({
  name: CHECK_DATA_COMMAND,
  description:
    'check that PostgreSQL, Redis and Qdrant agree (orphan/missing points, stuck work); --fix repairs, then checks again',
})
export class CheckDataCommand extends CommandRunner {
  constructor(
    private readonly config: QuarryConfig,
    private readonly out: CliOutput,
  ) {
    super();
  }

  async run(_args: string[], options: CheckDataOptions): Promise<void> {
    // the report says everything the services would log, and --json output must stay parseable
    Logger.overrideLogger(['error']);
    const deps = await openDependencies(this.config);
    try {
      const integrity = new IntegrityService(deps.db, deps.jobs, deps.vectors, this.config);
      let fixed: IntegrityReport | undefined;
      if (options.fix) {
        fixed = await new ReconcilerService(integrity, this.config)
          .reconcile({ fix: true })
          .catch(() => undefined);
        if (!fixed)
          this.out.info(
            'not repaired: the reconciler is running elsewhere, or PostgreSQL is unreachable',
          );
        else this.out.info(describeRepairs(fixed));
      }
      const report = await integrity.check({ postgresError: deps.postgresError });
      this.out.result(fixed ? { fix: fixed, check: report } : report, () =>
        render(report, this.out.isTty),
      );
      process.exitCode = EXIT[report.overall];
    } finally {
      await deps.close();
    }
  }

  @Option({ flags: '--fix', description: 'repair what the check finds, then check again' })
  parseFix(): boolean {
    return true;
  }

  @Option({ flags: '--json', description: 'machine-readable output' })
  parseJson(): boolean {
    this.out.json = true;
    return true;
  }
}

interface Dependencies {
  db: DbService;
  jobs: JobQueueService;
  vectors: QdrantGateway;
  postgresError?: string;
  close(): Promise<void>;
}

async function openDependencies(config: QuarryConfig): Promise<Dependencies> {
  const dataSource: DataSource = createDataSource({
    ...config.db,
    poolMax: 2,
    migrationsRun: false,
  });
  let postgresError: string | undefined;
  const initializing = dataSource.initialize();
  try {
    await withTimeout(initializing, CONNECT_TIMEOUT_MS);
  } catch (err) {
    postgresError = err instanceof Error ? err.message : String(err);
    // a late success must not leave a pool open
    initializing.then((ds) => ds.destroy()).catch(() => undefined);
  }

  const redis = createRedisConnection(config.redis, 'client', 'quarry-cli-check-data');
  const queues = new Map<QueueName, Queue>(
    ALL_QUEUES.map((name) => [
      name,
      new Queue(name, { connection: redis, prefix: config.redis.prefix }),
    ]),
  );
  for (const queue of queues.values()) queue.on('error', () => undefined);
  const jobs = new JobQueueService(queues, {
    ingestMaxAttempts: config.worker.ingestMaxAttempts,
    cleanupMaxAttempts: config.worker.cleanupMaxAttempts,
  });

  const vectors = new QdrantGateway({
    ...config.qdrant,
    bootstrap: false,
    healthTimeoutMs: 2_000,
    retry: { attempts: 2 },
  });

  return {
    db: new DbService(dataSource),
    jobs,
    vectors,
    postgresError,
    async close() {
      await withTimeout(Promise.all([...queues.values()].map((q) => q.close())), 2_000).catch(
        () => undefined,
      );
      redis.disconnect();
      await vectors.close().catch(() => undefined);
      if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
    },
  };
}

function describeRepairs(report: IntegrityReport): string {
  if (report.repairs.length === 0) return 'repairs: nothing to repair';
  return `repairs:\n${report.repairs.map((r) => `  ${r.kind}: ${r.count}`).join('\n')}`;
}

function markOf(finding: Finding): string {
  if (!finding.checked) return '➖';
  if (finding.count === 0) return MARK.healthy;
  return finding.severity === 'critical' ? MARK.critical : MARK.warning;
}

function render(report: IntegrityReport, color: boolean): string {
  const table = new Table({
    head: ['', 'check', 'count', 'examples', 'detail'],
    wordWrap: true,
    ...(!color && { style: { head: [], border: [] } }),
  });
  for (const finding of report.findings) {
    table.push([
      markOf(finding),
      finding.kind,
      String(finding.count),
      finding.examples.slice(0, 3).join('\n'),
      finding.message,
    ]);
  }
  const lines = [
    table.toString(),
    `${MARK[report.overall]} ${report.overall} — checked ${report.totals.pointsScanned} points and ${report.totals.chunksChecked} chunks in ${report.durationMs} ms`,
  ];
  for (const reason of report.skipped) lines.push(`   not checked: ${reason}`);
  return lines.join('\n');
}

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
