import { startFakeModelHub, writeTinyEmbeddingModel, type FakeModelHub } from '@quarry/testing';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HuggingFaceModels } from './hugging-face-models';
import { LocalEmbedder } from './local-embedder';

const ID = 'test-org/tiny-e5';

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

describe('HuggingFaceModels (against a local server with the hub layout)', () => {
  let root: string;
  let repo: string;
  let hub: FakeModelHub;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'quarry-hub-'));
    repo = writeTinyEmbeddingModel(join(root, 'hub'), { pooling: 'mean' }).dir;
    const quantized = writeTinyEmbeddingModel(join(root, 'quantized'), {
      onnxFile: 'model_quantized.onnx',
    });
    copyFileSync(
      join(quantized.dir, 'onnx', 'model_quantized.onnx'),
      join(repo, 'onnx', 'model_quantized.onnx'),
    );
    writeFileSync(join(repo, 'pytorch_model.bin'), 'weights in a format Quarry never reads');
    hub = await startFakeModelHub(ID, repo);
  });

  afterAll(async () => {
    await hub.close();
    rmSync(root, { recursive: true, force: true });
  });

  beforeEach(() => {
    hub.requests.length = 0;
    hub.corrupt = undefined;
  });

  it('pulls a model folder that the local embedder can run, with progress, and verifies every file', async () => {
    const dir = join(root, 'pulled', 'tiny-e5');
    const progress: { file: string; bytes: number; total: number }[] = [];
    const pulled = await new HuggingFaceModels(hub.endpoint).pull(ID, dir, {
      onProgress: (p) => progress.push(p),
    });
    expect(pulled.files.map((f) => f.path).sort()).toEqual(
      [
        '1_Pooling/config.json',
        'config.json',
        'onnx/model.onnx',
        'tokenizer.json',
        'tokenizer_config.json',
      ].sort(),
    );
    expect(existsSync(join(dir, 'pytorch_model.bin'))).toBe(false);
    expect(existsSync(join(dir, 'onnx', 'model_quantized.onnx'))).toBe(false);
    expect(walk(dir).some((f) => f.endsWith('.part'))).toBe(false);
    const size = statSync(join(repo, 'onnx', 'model.onnx')).size;
    const onnx = progress.filter((p) => p.file === 'onnx/model.onnx');
    expect(onnx[onnx.length - 1]).toEqual({ file: 'onnx/model.onnx', bytes: size, total: size });
    const embedder = new LocalEmbedder({ modelPath: dir });
    try {
      expect(embedder.profile.queryPrefix).toBe('query: ');
      const [v] = await embedder.embed(['ocean']);
      expect(v).toHaveLength(32);
    } finally {
      await embedder.close();
    }
  });

  it('fetches nothing again when the folder is already complete', async () => {
    const dir = join(root, 'again');
    const models = new HuggingFaceModels(hub.endpoint);
    await models.pull(ID, dir);
    hub.requests.length = 0;
    const second = await models.pull(ID, dir);
    expect(second.files.every((f) => f.skipped)).toBe(true);
    expect(hub.requests.filter((r) => r.includes('/resolve/'))).toEqual([]);
  });

  it('takes the quantised export with quantized', async () => {
    const dir = join(root, 'quantized-pull');
    const pulled = await new HuggingFaceModels(hub.endpoint).pull(ID, dir, { quantized: true });
    expect(pulled.files.map((f) => f.path)).toContain('onnx/model_quantized.onnx');
    expect(existsSync(join(dir, 'onnx', 'model.onnx'))).toBe(false);
    expect(new LocalEmbedder({ modelPath: dir }).folder.modelFile).toMatch(
      /model_quantized\.onnx$/,
    );
  });

  it.each([
    [
      'onnx/model.onnx',
      /onnx\/model\.onnx: sha256 [0-9a-f]{64} does not match the hub's [0-9a-f]{64}; pull again/,
    ],
    ['tokenizer.json', /tokenizer\.json: git blob [0-9a-f]{40} does not match the hub's/],
  ])('refuses a corrupted %s and leaves no file behind', async (path, message) => {
    hub.corrupt = path;
    const dir = join(root, `corrupt-${path.replace(/\W/g, '_')}`);
    await expect(new HuggingFaceModels(hub.endpoint).pull(ID, dir)).rejects.toThrow(message);
    expect(existsSync(join(dir, path))).toBe(false);
    expect(existsSync(join(dir, `${path}.part`))).toBe(false);
  });

  it('names the address of a model the hub does not know', async () => {
    await expect(
      new HuggingFaceModels(hub.endpoint).pull('test-org/nothing', join(root, 'x')),
    ).rejects.toThrow(
      /api\/models\/test-org\/nothing\/revision\/main\?blobs=true answered HTTP 404/,
    );
  });
});
