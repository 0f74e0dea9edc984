import { INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CoreModule } from '@quarry/core';
import {
  BackupManifest,
  IntegrityReport,
  RestoreReport,
  SearchMode,
  SearchModule,
  SearchService,
} from '@quarry/documents';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { JobName } from '@quarry/queue';
import { ReconcileStack } from '../../worker/test/support/reconcile-stack';
import { jsonOf, runCli } from './support/ops-cli';

jest.setTimeout(240_000);

const TEXTS: Record<string, string> = {
  'granite.txt':
    'Granite quarries cut stone blocks for bridges and harbours. The quarry crew measures every block before it is shipped by rail.',
  'harbour.txt':
    'The harbour master signals ships at dawn. Cranes unload containers while the tide turns and gulls circle the pier.',
  'meadow.txt':
    'A meadow full of wild flowers hums with bees in July. Farmers cut the hay late, when the orchids have set their seed.',
  'orbit.txt':
    'Satellites in low orbit pass overhead every ninety minutes, sending telemetry to ground stations around the globe.',
  'ledger.txt':
    'The accountant balanced the ledger twice: invoices, receipts and the bank statement must agree to the last cent.',
  'korean.txt':
    '서울의 항구에서는 새벽마다 배들이 신호를 주고받는다. 화강암 채석장에서 잘라낸 돌은 다리를 짓는 데 쓰인다.',
};
const QUERIES: [string, SearchMode][] = [
  ['granite quarry blocks', 'semantic'],
  ['ships in the harbour at dawn', 'semantic'],
  ['satellite telemetry', 'hybrid'],
  ['balanced ledger invoices', 'keyword'],
  ['항구 신호', 'hybrid'],
];

/**
 * Backup → reset-hard → restore with the compiled cli: the same documents, chunks and
 * search answers afterwards, and a healthy check-data. Once from the Qdrant snapshot,
 * once from a backup without one (restore falls back to reindex).
 */
describe('backup, reset-hard, restore round trip', () => {
  let stack: ReconcileStack;
  let search: INestApplicationContext;
  let env: Record<string, string>;
  let dir: string;

  const counts = async () =>
    (
      await stack.query<{ documents: number; chunks: number; collections: number }>(
        `SELECT (SELECT count(*)::int FROM documents) AS documents,
                (SELECT count(*)::int FROM chunks) AS chunks,
                (SELECT count(*)::int FROM collections) AS collections`,
      )
    )[0];

  const answers = async () => {
    const service = search.get(SearchService);
    const out: unknown[] = [];
    for (const [query, mode] of QUERIES) {
      const { results } = await service.search(stack.ownerId, { query, mode, limit: 5 });
      out.push(
        results.map((r) => ({
          chunk: r.chunk_id,
          document: r.document.filename,
          rank: r.rank,
          score: Math.round(r.score * 1e6),
        })),
      );
    }
    return out;
  };

  beforeAll(async () => {
    stack = await ReconcileStack.start('ops_round_trip');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quarry-ops-roundtrip-'));
    // the backup itself goes to dir/backup; reindex checkpoints stay out of the repository
    env = { ...stack.env(), QUARRY_STATE_DIR: path.join(dir, 'state') };
    dir = path.join(dir, 'backup');
    @Module({
      imports: [CoreModule.forRoot({ config: stack.config, queueRole: 'producer' }), SearchModule],
    })
    class SearchContext {}
    search = await NestFactory.createApplicationContext(SearchContext, { logger: false });
    await search.init();

    const worker = await stack.startWorker();
    const ids: string[] = [];
    for (const [name, text] of Object.entries(TEXTS)) ids.push(await stack.upload(text, name));
    await stack.waitForStatus(ids, 'completed', 60_000);
    await stack.stopWorker(worker);
  });

  afterAll(async () => {
    await search?.close();
    await stack?.close();
    if (dir) fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  });

  it('restores the same documents, chunks and search answers from the snapshot', async () => {
    // an upload the backup catches before any worker took it: pending, with no points yet
    const pendingId = await stack.upload('uploaded while the backup ran', 'late.txt');
    const before = await counts();
    const expected = await answers();
    expect(before.documents).toBe(Object.keys(TEXTS).length + 1);
    expect((expected as unknown[][]).every((hits) => hits.length > 0)).toBe(true);

    const backup = await runCli(['backup', '--out', dir, '--json'], env);
    expect(backup.code).toBe(0);
    const { manifest } = jsonOf<{ manifest: BackupManifest }>(backup);
    expect(manifest.counts).toMatchObject({ documents: before.documents, chunks: before.chunks });
    expect(manifest.vector.points).toBe(before.chunks);

    const reset = await runCli(['reset-hard', '--yes'], env);
    expect(reset.code).toBe(0);
    expect(await counts()).toEqual({ documents: 0, chunks: 0, collections: 0 });
    expect(await stack.vectors.count()).toBe(0);

    const restore = await runCli(['restore', dir, '--json'], env);
    expect(restore.code).toBe(0);
    const result = jsonOf<{ restore: RestoreReport; checkData: IntegrityReport }>(restore);
    expect(result.restore).toMatchObject({
      vectors: 'snapshot',
      points: before.chunks,
      requeued: 1,
    });
    expect(await stack.jobs.hasLiveJob(JobName.IngestDocument, `ingest-${pendingId}-1`)).toBe(true);
    expect(result.checkData.overall).toBe('healthy');
    expect(await counts()).toEqual(before);
    expect(await answers()).toEqual(expected);

    const human = await runCli(['check-data'], env);
    expect(human.code).toBe(0);

    // a second restore over the restored data needs --force
    const again = await runCli(['restore', dir], env);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/is not empty/);
  });

  it('rebuilds the points with reindex when the backup has no usable snapshot', async () => {
    const before = await counts();
    const expected = await answers();
    const manifestFile = path.join(dir, 'manifest.json');
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as BackupManifest;
    manifest.files = manifest.files.filter((f) => f.name !== 'qdrant.snapshot');
    fs.writeFileSync(manifestFile, JSON.stringify(manifest));
    fs.rmSync(path.join(dir, 'qdrant.snapshot'));

    expect((await runCli(['reset-hard', '--yes'], env)).code).toBe(0);
    const restore = await runCli(['restore', dir], env);
    expect(restore.code).toBe(0);
    expect(restore.stdout).toMatch(/points from the reindex: the backup holds no Qdrant snapshot/);
    expect(restore.stdout).toMatch(/check-data: ✅ healthy/);
    expect(await counts()).toEqual(before);
    expect(await stack.vectors.count()).toBe(before.chunks);
    expect(await answers()).toEqual(expected);
  });
});
