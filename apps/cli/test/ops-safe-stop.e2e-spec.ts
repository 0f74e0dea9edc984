import { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { QueueName } from '@quarry/queue';
import { ReconcileStack, sampleText, waitFor } from '../../worker/test/support/reconcile-stack';
import { SlowEmbedder, startSlowEmbedder } from '../../worker/test/support/slow-embedder';
import { jsonOf, runCli } from './support/ops-cli';

jest.setTimeout(240_000);

interface SafeStopResult {
  paused: string[];
  drained: boolean;
  handedBack: { id: string }[];
  stopped: { name: string; pid: number; outcome: string }[];
}

/**
 * The 30-minute maintenance: safe-stop in the middle of 20 ingests (workers are real
 * processes with pid files, embeddings come from a slow OpenAI-compatible server), then
 * safe-start and the workers started again. Every document completes, none is lost,
 * and no point is written twice.
 */
describe('safe-stop amid 20 ingests, then safe-start', () => {
  let embedder: SlowEmbedder;
  let stack: ReconcileStack;
  let runDir: string;
  const workers: ChildProcess[] = [];

  const spawnWorker = (name: string) => {
    const child = stack.spawnWorker();
    workers.push(child);
    fs.writeFileSync(path.join(runDir, `${name}.pid`), String(child.pid));
    return child;
  };

  beforeAll(async () => {
    embedder = await startSlowEmbedder(2_500);
    stack = await ReconcileStack.start('ops_safe_stop', {
      overrides: {
        EMBEDDING_PROVIDER: 'openai',
        EMBEDDING_BASE_URL: embedder.url,
        EMBEDDING_MODEL: 'slow-test',
        EMBEDDING_BATCH_SIZE: 2,
        WORKER_CONCURRENCY: 2,
        WORKER_LOCK_DURATION_MS: 5_000,
        STALE_HEARTBEAT_MS: 60_000,
      },
    });
    runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'quarry-ops-run-'));
  });

  afterAll(async () => {
    for (const child of workers) await stack?.kill(child).catch(() => undefined);
    await stack?.close();
    await embedder?.close();
    fs.rmSync(runDir, { recursive: true, force: true });
  });

  it('hands back what runs, stops the workers, and completes all 20 after safe-start', async () => {
    const first = [spawnWorker('worker'), spawnWorker('worker-2')];
    const ids: string[] = [];
    for (let i = 0; i < 20; i++)
      ids.push(await stack.upload(sampleText(`doc${i}`, 6), `doc-${i}.txt`));

    // mid-flight: some done, some being embedded
    await waitFor(
      'ingests under way',
      async () => {
        const rows = await stack.query<{ status: string; n: number }>(
          `SELECT status, count(*)::int AS n FROM documents GROUP BY status`,
        );
        const of = (s: string) => rows.find((r) => r.status === s)?.n ?? 0;
        return of('completed') >= 1 && of('processing') >= 1 ? true : undefined;
      },
      60_000,
      50,
    );

    const env = { ...stack.env(), RUN_DIR: runDir };
    const stop = await runCli(['safe-stop', '--grace', '1s', '--json'], env, { timeoutMs: 90_000 });
    expect(stop.code).toBe(0);
    const stopped = jsonOf<SafeStopResult>(stop);
    expect(stopped.paused).toEqual(['ingest', 'cleanup', 'maintenance']);
    expect(stopped.stopped.map((p) => [p.name, p.outcome])).toEqual([
      ['worker', 'stopped'],
      ['worker-2', 'stopped'],
    ]);
    for (const child of first) expect(child.exitCode ?? child.signalCode).not.toBeNull();
    expect(fs.readdirSync(runDir).filter((f) => f.endsWith('.pid'))).toEqual([]);
    expect((await stack.jobs.counts(QueueName.Ingest)).paused).toBe(true);

    const midway = await stack.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM documents GROUP BY status ORDER BY status`,
    );
    expect(midway.find((r) => r.status === 'processing')).toBeUndefined();
    expect(midway.reduce((sum, r) => sum + r.n, 0)).toBe(20);
    const pendingAfterStop = midway.find((r) => r.status === 'pending')?.n ?? 0;
    expect(pendingAfterStop).toBeGreaterThan(0);

    const start = await runCli(['safe-start', '--json'], env);
    expect(start.code).toBe(0);
    expect(jsonOf(start)).toMatchObject({
      resumed: ['ingest', 'cleanup', 'maintenance'],
      requeued: { pending: pendingAfterStop },
    });
    expect((await stack.jobs.counts(QueueName.Ingest)).paused).toBe(false);

    spawnWorker('worker');
    await stack.waitForStatus(ids, 'completed', 150_000);

    const perDocument = await stack.query<{ id: string; chunk_count: number; rows: number }>(
      `SELECT d.id::text AS id, d.chunk_count,
              (SELECT count(*)::int FROM chunks c WHERE c.document_id = d.id AND c.generation = d.generation) AS rows
         FROM documents d`,
    );
    expect(perDocument).toHaveLength(20);
    for (const doc of perDocument) {
      expect(doc.rows).toBe(doc.chunk_count);
      expect(await stack.vectors.countByDocument(doc.id)).toBe(doc.chunk_count);
    }
    const totalChunks = perDocument.reduce((sum, d) => sum + d.chunk_count, 0);
    expect(await stack.vectors.count()).toBe(totalChunks);
    const check = await stack.integrity.check();
    expect(check.findings.filter((f) => f.count > 0)).toEqual([]);
  });
});
