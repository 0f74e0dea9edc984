import { startFakeModelHub, writeTinyEmbeddingModel, type FakeModelHub } from '@quarry/testing';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonOf, runCli } from './support/ops-cli';

/**
 * `quarry models pull` as an operator runs it, against a local server with the hub's
 * layout (HF_ENDPOINT): no database, Redis or Qdrant is needed, or reachable here.
 */
describe('cli: models pull', () => {
  let root: string;
  let hub: FakeModelHub;
  const env = () => ({
    HF_ENDPOINT: hub.endpoint,
    DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
    REDIS_URL: 'redis://127.0.0.1:1',
    QDRANT_URL: 'http://127.0.0.1:1',
  });

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'quarry-models-cli-'));
    const repo = writeTinyEmbeddingModel(join(root, 'repo'), { hidden: 48 });
    hub = await startFakeModelHub('test-org/tiny-e5-small', repo.dir);
  });

  afterAll(async () => {
    await hub.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('writes the folder, reports progress and checksums, and prints the settings to use', async () => {
    const dir = join(root, 'models', 'tiny-e5-small');
    const run = await runCli(['models', 'pull', 'test-org/tiny-e5-small', '--dir', dir], env());
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/onnx\/model\.onnx: \d+\/\d+ bytes \(100%\)/);
    expect(run.stdout).toMatch(/fetched onnx\/model\.onnx \(\d+ bytes, sha256 [0-9a-f]{12}…\)/);
    expect(run.stdout).toContain(
      `use it with: EMBEDDING_PROVIDER=local EMBEDDING_MODEL_PATH=${dir} EMBEDDING_DIM=48`,
    );
    expect(existsSync(join(dir, 'onnx', 'model.onnx'))).toBe(true);

    const again = jsonOf<{ files: { path: string; skipped: boolean }[]; settings: object }>(
      await runCli(['models', 'pull', 'test-org/tiny-e5-small', '--dir', dir, '--json'], env()),
    );
    expect(again.files.every((f) => f.skipped)).toBe(true);
    expect(again.settings).toEqual({
      EMBEDDING_PROVIDER: 'local',
      EMBEDDING_MODEL_PATH: dir,
      EMBEDDING_DIM: 48,
    });
  });

  it('fails with one line and exit 2 when a file does not match its checksum', async () => {
    hub.corrupt = 'onnx/model.onnx';
    try {
      const run = await runCli(
        ['models', 'pull', 'test-org/tiny-e5-small', '--dir', join(root, 'bad')],
        env(),
      );
      expect(run.code).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(
        /onnx\/model\.onnx: sha256 .* does not match the hub's .*; pull again/,
      );
      expect(existsSync(join(root, 'bad', 'onnx', 'model.onnx'))).toBe(false);
    } finally {
      hub.corrupt = undefined;
    }
  });
});
