/*
 * Upload acceptance latency: 32 concurrent clients post 100 KB text documents (distinct
 * content, so no duplicate short-circuit) to the api while a real worker ingests them as
 * they arrive, beside a floor measured in the same run: a bare node:http server doing the
 * same per-request work (bench/upload-floor.ts). Both are their own processes, built from
 * dist/, against the same database, queue and worker; they take turns in rounds so drift
 * on this shared machine falls on both alike.
 *   npm run bench:upload   → bench/results/upload.json
 * The closed loop (each client sends its next upload when the previous one is answered)
 * measures the most the machine sustains: its latency is clients ÷ throughput. A paced
 * phase follows, with the worker still busy on the backlog: the same clients each send
 * one upload every BENCH_PACED_INTERVAL_MS, an arrival rate below saturation, which is
 * what a client's wait for its 202 looks like when the api is not the bottleneck.
 * Settings: BENCH_CLIENTS (32), BENCH_ROUNDS (3), BENCH_REQUESTS (300 per target per
 * round), BENCH_WARMUP (96 per target), BENCH_DOC_BYTES (102400), BENCH_API_LOG_LEVEL (info),
 * BENCH_PACED_INTERVAL_MS (500), BENCH_PACED_ROUNDS (2), BENCH_PACED_REQUESTS (320 per
 * target per round).
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { BenchProcess, freePort } from './support/bench-process';
import {
  LatencySummary,
  formatMs,
  machineInfo,
  ratio,
  summarise,
  writeResult,
} from './support/bench-report';
import { BenchStack } from './support/bench-stack';
import { syntheticText } from './support/corpus';
import { HttpTarget, LoadResult, closedLoop, pacedLoop } from './support/http-load';
import { PgActivitySampler } from './support/pg-activity-sampler';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 300);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 96);
const DOC_BYTES = Number(process.env.BENCH_DOC_BYTES ?? 100 * 1024);
const API_LOG_LEVEL = process.env.BENCH_API_LOG_LEVEL ?? 'info';
const PACED_INTERVAL_MS = Number(process.env.BENCH_PACED_INTERVAL_MS ?? 500);
const PACED_ROUNDS = Number(process.env.BENCH_PACED_ROUNDS ?? 2);
const PACED_REQUESTS = Number(process.env.BENCH_PACED_REQUESTS ?? 320);
const GOAL_P99_MS = 50;
const GOAL_P99_RATIO = 1.5;
const OWNER = 'bench-owner';

type TargetName = 'api' | 'floor';

/** Distinct 100 KB JSON bodies, built cheaply: a unique head on one shared escaped text. */
function bodyFactory(collectionId: string): (target: TargetName, index: number) => string {
  const run = randomBytes(6).toString('hex');
  // Leave room for the unique first line so the text stays at DOC_BYTES.
  const shared = JSON.stringify(syntheticText(DOC_BYTES - 64, 7)).slice(1, -1);
  return (target, index) => {
    const head = `Upload ${run} ${target} ${index} ${randomBytes(8).toString('hex')}\\n\\n`;
    return `{"title":"bench ${target} ${index}","collection_id":"${collectionId}","text":"${head}${shared}"}`;
  };
}

async function documentCounts(stack: BenchStack): Promise<Record<string, number>> {
  const client = await stack.pg();
  try {
    const { rows } = await client.query<{ status: string; n: string }>(
      `SELECT status, count(*) AS n FROM documents GROUP BY status`,
    );
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const machineAtStart = machineInfo();
  const stack = await BenchStack.start('upload');
  const clients: HttpTarget[] = [];
  try {
    const worker = await stack.startWorker();
    const { url: apiUrl } = await stack.startApi({ LOG_LEVEL: API_LOG_LEVEL });
    const floorPort = await freePort();
    const floor: BenchProcess = stack.spawn(
      'floor',
      'bench/upload-floor.js',
      stack.env({ PORT: String(floorPort), FLOOR_OWNER_ID: OWNER }),
    );
    const floorUrl = `http://127.0.0.1:${floorPort}`;
    await floor.waitForHttp(`${floorUrl}/health/live`);

    const key = await stack.createApiKey(OWNER);
    const auth = { authorization: `Bearer ${key}` };
    const api = new HttpTarget(apiUrl, auth, CLIENTS);
    const bare = new HttpTarget(floorUrl, auth, CLIENTS);
    clients.push(api, bare);
    const created = await api.postJson('/v1/collections', JSON.stringify({ name: 'bench' }));
    if (created.status !== 201) throw new Error(`collection not created: ${created.body}`);
    const collectionId = (JSON.parse(created.body) as { id: string }).id;

    const body = bodyFactory(collectionId);
    const targets: Record<TargetName, HttpTarget> = { api, floor: bare };
    let sent = 0;
    const load = (target: TargetName, count: number): Promise<LoadResult> =>
      closedLoop(
        CLIENTS,
        count,
        () => targets[target].postJson('/v1/documents/text', body(target, sent++)),
        202,
      );

    console.log(
      `upload: ${CLIENTS} clients, ${(DOC_BYTES / 1024).toFixed(0)} KB documents, ` +
        `${ROUNDS} rounds × ${REQUESTS} requests per target, warm-up ${WARMUP} each`,
    );
    for (const target of ['api', 'floor'] as const) {
      const warm = await load(target, WARMUP);
      if (warm.latenciesMs.length !== WARMUP)
        throw new Error(`${target} warm-up failed: ${warm.failures.join('; ')}`);
    }

    // Which side holds the time: PostgreSQL (active sessions) or the client between
    // statements (idle in transaction)? Sampled per round, off the measured path.
    const monitor = await stack.pg();
    const sampler = new PgActivitySampler(monitor, stack.db.name);
    const before = await documentCounts(stack);
    const started = performance.now();
    const samples: Record<TargetName, number[]> = { api: [], floor: [] };
    const rounds: Array<Record<string, unknown>> = [];
    const statuses: Record<TargetName, Record<string, number>> = { api: {}, floor: {} };
    const failures: string[] = [];
    /** Adds a load's latencies to `into`, its statuses and failures to the run's; its summary. */
    const tally = (
      into: Record<TargetName, number[]>,
      target: TargetName,
      result: LoadResult,
      label: string,
    ): LatencySummary => {
      into[target].push(...result.latenciesMs);
      for (const [status, n] of Object.entries(result.statuses))
        statuses[target][status] = (statuses[target][status] ?? 0) + n;
      failures.push(...result.failures.map((f) => `${label}: ${f}`));
      return summarise(result.latenciesMs);
    };
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate who goes first, so a trend in the machine's load favours neither.
      const order: TargetName[] = round % 2 === 0 ? ['api', 'floor'] : ['floor', 'api'];
      for (const target of order) {
        sampler.start();
        const result = await load(target, REQUESTS);
        const database = await sampler.stop();
        const s = tally(samples, target, result, target);
        rounds.push({
          round: round + 1,
          target,
          ...s,
          requestsPerSecond: Math.round((result.latenciesMs.length / result.wallMs) * 1000),
          databaseSessions: database,
        });
        console.log(
          `  round ${round + 1} ${target.padEnd(5)} p50 ${formatMs(s.p50)}  p99 ${formatMs(s.p99)}  ` +
            `max ${formatMs(s.max)}  (${Math.round((result.latenciesMs.length / result.wallMs) * 1000)} req/s)`,
        );
      }
    }
    const measuredMs = performance.now() - started;
    await monitor.end();
    const after = await documentCounts(stack);

    // Paced: the same clients below saturation, the worker still on the backlog.
    const pacedSamples: Record<TargetName, number[]> = { api: [], floor: [] };
    const pacedRounds: Array<Record<string, unknown>> = [];
    const aggregateRate = Math.round((CLIENTS * 1000) / PACED_INTERVAL_MS);
    console.log(
      `paced: ${CLIENTS} clients × one upload every ${PACED_INTERVAL_MS} ms (${aggregateRate}/s), ` +
        `${PACED_ROUNDS} rounds × ${PACED_REQUESTS} requests per target`,
    );
    for (let round = 0; round < PACED_ROUNDS; round++) {
      const order: TargetName[] = round % 2 === 0 ? ['api', 'floor'] : ['floor', 'api'];
      for (const target of order) {
        const result = await pacedLoop(
          CLIENTS,
          PACED_INTERVAL_MS,
          PACED_REQUESTS,
          () => targets[target].postJson('/v1/documents/text', body(target, sent++)),
          202,
        );
        const s = tally(pacedSamples, target, result, `paced ${target}`);
        pacedRounds.push({ round: round + 1, target, ...s });
        console.log(
          `  round ${round + 1} ${target.padEnd(5)} p50 ${formatMs(s.p50)}  p99 ${formatMs(s.p99)}  max ${formatMs(s.max)}`,
        );
      }
    }
    const afterPaced = await documentCounts(stack);
    if (!worker.running) throw new Error(`the worker died during the run:\n${worker.tail()}`);

    const figures: Record<TargetName, LatencySummary> = {
      api: summarise(samples.api),
      floor: summarise(samples.floor),
    };
    const p50Ratio = ratio(figures.api.p50, figures.floor.p50);
    const p99Ratio = ratio(figures.api.p99, figures.floor.p99);
    const errors = (t: TargetName) =>
      Object.entries(statuses[t])
        .filter(([status]) => status !== '202')
        .reduce((n, [, count]) => n + count, 0);
    const goals = {
      apiP99AtMost50Ms: figures.api.p99 <= GOAL_P99_MS,
      apiP99AtMost1_5xFloor: p99Ratio <= GOAL_P99_RATIO,
      noErrors: errors('api') === 0 && errors('floor') === 0,
    };
    const pass = Object.values(goals).every(Boolean);
    const completedDuringRun = (after.completed ?? 0) - (before.completed ?? 0);
    const paced: Record<TargetName, LatencySummary> = {
      api: summarise(pacedSamples.api),
      floor: summarise(pacedSamples.floor),
    };
    const pacedP99Ratio = ratio(paced.api.p99, paced.floor.p99);
    const pacedGoals = {
      apiP99AtMost50Ms: paced.api.p99 <= GOAL_P99_MS,
      apiP99AtMost1_5xFloor: pacedP99Ratio <= GOAL_P99_RATIO,
    };

    const result = {
      benchmark: 'upload',
      date: new Date().toISOString(),
      machine: machineAtStart,
      inputs: {
        clients: CLIENTS,
        rounds: ROUNDS,
        requestsPerTargetPerRound: REQUESTS,
        warmupPerTarget: WARMUP,
        documentBytes: DOC_BYTES,
        api: { NODE_ENV: 'production', LOG_LEVEL: API_LOG_LEVEL, DB_POOL_MAX: 20 },
        floor:
          'node:http; JSON.parse; sha256; type sniff; one pg transaction (ownership SELECT, ' +
          'duplicate SELECT, INSERT documents, INSERT document_blobs); BullMQ Queue.add with ' +
          'the ingest job id and options; 202',
        worker:
          'one worker process (WORKER_CONCURRENCY default), ingesting the uploads as they arrive',
        latency: 'client-observed, request start to last response byte, keep-alive connections',
      },
      figures,
      ratios: { p50: p50Ratio, p99: p99Ratio },
      statuses,
      failures: failures.slice(0, 10),
      rounds,
      workerLoad: {
        measuredSeconds: Math.round(measuredMs / 100) / 10,
        documentsCompletedDuringRun: completedDuringRun,
        documentsByStatusAtEnd: after,
      },
      goals: { p99Ms: GOAL_P99_MS, p99RatioToFloor: GOAL_P99_RATIO, ...goals },
      // The verdict stays the closed loop's; the paced figures are reported beside it.
      pass,
      paced: {
        clients: CLIENTS,
        intervalMsPerClient: PACED_INTERVAL_MS,
        uploadsPerSecond: aggregateRate,
        latency: 'from the moment each upload was due to its last response byte',
        figures: paced,
        ratios: { p50: ratio(paced.api.p50, paced.floor.p50), p99: pacedP99Ratio },
        goals: pacedGoals,
        rounds: pacedRounds,
        documentsCompletedDuringPhase: (afterPaced.completed ?? 0) - (after.completed ?? 0),
        documentsWaitingAtEnd: (afterPaced.pending ?? 0) + (afterPaced.processing ?? 0),
      },
      machineAtEnd: machineInfo(),
    };
    const file = writeResult('upload', result);

    console.log('');
    console.log('target   p50        p95        p99        max');
    for (const t of ['api', 'floor'] as const) {
      const f = figures[t];
      console.log(
        `${t.padEnd(8)} ${formatMs(f.p50).padEnd(10)} ${formatMs(f.p95).padEnd(10)} ` +
          `${formatMs(f.p99).padEnd(10)} ${formatMs(f.max)}`,
      );
    }
    console.log(`api/floor: p50 ×${p50Ratio}, p99 ×${p99Ratio}`);
    console.log(
      `worker completed ${completedDuringRun} documents during the measured ${result.workerLoad.measuredSeconds} s`,
    );
    console.log(
      `goals: p99 ≤ ${GOAL_P99_MS} ms ${goals.apiP99AtMost50Ms ? 'met' : 'MISSED'}; ` +
        `p99 ≤ ${GOAL_P99_RATIO}× floor ${goals.apiP99AtMost1_5xFloor ? 'met' : 'MISSED'}; ` +
        `errors ${goals.noErrors ? 'none' : JSON.stringify(statuses)}`,
    );
    console.log(
      `paced (${aggregateRate} uploads/s): api p50 ${formatMs(paced.api.p50)} p99 ${formatMs(paced.api.p99)}; ` +
        `floor p50 ${formatMs(paced.floor.p50)} p99 ${formatMs(paced.floor.p99)}; ` +
        `p99 ≤ ${GOAL_P99_MS} ms ${pacedGoals.apiP99AtMost50Ms ? 'met' : 'missed'}, ` +
        `≤ ${GOAL_P99_RATIO}× floor ${pacedGoals.apiP99AtMost1_5xFloor ? 'met' : 'missed'}; ` +
        `worker completed ${result.paced.documentsCompletedDuringPhase}, ${result.paced.documentsWaitingAtEnd} still waiting`,
    );
    console.log(`written ${file}`);
  } finally {
    for (const c of clients) c.close();
    await stack.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
