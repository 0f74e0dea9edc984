import { spawnQdrantEmulator, SpawnedQdrant } from '@quarry/testing';
import { Client } from 'pg';
import { DeletionProxy, startDeletionProxy } from './support/deletion-proxy';
import { FAST_MAINTENANCE, ReconcileStack, sampleText, waitFor } from './support/reconcile-stack';

/**
 * Faults in the middle of a cleanup. Nobody helps: the test only does the damage and
 * then watches the retries and the worker's own reconciler converge.
 */

async function expectConverged(stack: ReconcileStack, ids: string[]): Promise<void> {
  for (const id of ids) {
    expect(await stack.vectors.countByDocument(id)).toBe(0);
    expect(await stack.chunkRows(id)).toBe(0);
  }
  const report = await stack.integrity.check();
  expect(report.findings.filter((f) => f.count > 0)).toEqual([]);
}

async function uploadCompleted(stack: ReconcileStack, n: number, seed: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(await stack.upload(sampleText(`${seed}-${i}`, 3)));
  await stack.waitForStatus(ids, 'completed', 60_000);
  return ids;
}

/** Ends every backend of the worker's database connections (pool and reconciler lock). */
async function terminateWorkerConnections(stack: ReconcileStack): Promise<number> {
  const admin = new Client({ connectionString: stack.db.url, application_name: 'fault-injector' });
  admin.on('error', () => undefined);
  await admin.connect();
  try {
    const { rows } = await admin.query<{ ok: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
        WHERE datname = current_database() AND application_name LIKE 'quarry-worker%'`,
    );
    return rows.filter((r) => r.ok).length;
  } finally {
    await admin.end();
  }
}

describe('cleanup under faults', () => {
  describe('every worker connection terminated mid-cleanup', () => {
    let stack: ReconcileStack;
    let proxy: DeletionProxy;

    beforeAll(async () => {
      stack = await ReconcileStack.start('fault_pg', { overrides: FAST_MAINTENANCE });
      proxy = await startDeletionProxy(stack.config.qdrant.url);
      await stack.startWorker({ QDRANT_URL: proxy.url });
    });

    afterAll(async () => {
      proxy?.release();
      await stack?.close();
      await proxy?.close();
    });

    it('converges to deleted with no orphans', async () => {
      const ids = await uploadCompleted(stack, 6, 'pg');
      const caught = proxy.arm();
      await stack.documents.deleteMany(stack.ownerId, { ids });
      // one cleanup has deleted its points in Qdrant and waits for the answer
      const documentId = await caught;
      expect(ids).toContain(documentId);
      expect(await stack.vectors.countByDocument(documentId)).toBe(0);
      expect(await stack.chunkRows(documentId)).toBeGreaterThan(0);
      expect(await terminateWorkerConnections(stack)).toBeGreaterThan(0);
      proxy.release();
      // and again while the rest of the cleanups run
      for (let i = 0; i < 5; i++) {
        await new Promise((resolve) => setTimeout(resolve, 150));
        await terminateWorkerConnections(stack);
      }
      await stack.waitForStatus(ids, 'deleted', 60_000);
      await expectConverged(stack, ids);
    });
  });

  describe('Qdrant stopped for 10 s and restarted', () => {
    let qdrant: SpawnedQdrant;
    let stack: ReconcileStack;

    beforeAll(async () => {
      qdrant = await spawnQdrantEmulator();
      stack = await ReconcileStack.start('fault_qdrant', {
        qdrantUrl: qdrant.url,
        overrides: FAST_MAINTENANCE,
      });
      await stack.startWorker();
    });

    afterAll(async () => {
      await stack?.close();
      await qdrant?.stop();
    });

    it('converges to deleted with no orphans once Qdrant is back', async () => {
      const ids = await uploadCompleted(stack, 4, 'qdrant');
      await qdrant.kill('SIGTERM');
      const accepted = await stack.documents.deleteMany(stack.ownerId, { ids });
      expect(accepted.count).toBe(4);
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      // every attempt so far failed: still deleting, nothing removed from PostgreSQL
      const [{ n }] = await stack.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM documents WHERE id = ANY($1::uuid[]) AND status = 'deleting'`,
        [ids],
      );
      expect(n).toBe(4);
      await qdrant.restart();
      await stack.waitForStatus(ids, 'deleted', 90_000);
      await expectConverged(stack, ids);
    });
  });

  describe('worker SIGKILLed between the Qdrant delete and the PostgreSQL delete', () => {
    let stack: ReconcileStack;
    let proxy: DeletionProxy;

    beforeAll(async () => {
      stack = await ReconcileStack.start('fault_kill', { overrides: FAST_MAINTENANCE });
      proxy = await startDeletionProxy(stack.config.qdrant.url);
    });

    afterAll(async () => {
      proxy?.release();
      await stack?.close();
      await proxy?.close();
    });

    it('a restarted worker converges to deleted with no orphans', async () => {
      const worker = stack.spawnWorker({ QDRANT_URL: proxy.url });
      const ids = await uploadCompleted(stack, 3, 'kill');
      const caught = proxy.arm();
      await stack.documents.delete(stack.ownerId, ids[0]);
      expect(await caught).toBe(ids[0]);
      // the window is real: points gone, rows still there, document still deleting
      expect(await stack.vectors.countByDocument(ids[0])).toBe(0);
      expect(await stack.chunkRows(ids[0])).toBeGreaterThan(0);
      expect((await stack.status(ids[0])).status).toBe('deleting');
      await stack.kill(worker, 'SIGKILL');
      proxy.release();
      expect(worker.signalCode).toBe('SIGKILL');

      // the platform restarts the worker; the others are deleted meanwhile
      stack.spawnWorker({ QDRANT_URL: proxy.url });
      await stack.documents.deleteMany(stack.ownerId, { ids: ids.slice(1) });
      await stack.waitForStatus(ids, 'deleted', 90_000);
      await waitFor('tombstone cleanup of all three', async () =>
        (await stack.chunkRows(ids[0])) === 0 ? true : undefined,
      );
      await expectConverged(stack, ids);
    });
  });
});
