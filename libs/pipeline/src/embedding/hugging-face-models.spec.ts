import { writeTinyEmbeddingModel } from '@quarry/testing';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { HuggingFaceModels } from './hugging-face-models';
import { LocalEmbedder } from './local-embedder';

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

/**
 * A stand-in for the hub with its layout: `/api/models/{id}/revision/{rev}?blobs=true`
 * lists the files (sha256 for LFS ones, git blob sha1 for the rest) and
 * `/{id}/resolve/{rev}/{path}` serves them.
 */
describe('HuggingFaceModels (against a local server with the hub layout)', () => {
  let root: string;
  let repo: string;
  let server: Server;
  let endpoint: string;
  const requests: string[] = [];
  let corrupt: string | undefined;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'quarry-hub-'));
    repo = writeTinyEmbeddingModel(join(root, 'hub'), { pooling: 'mean' }).dir;
    writeTinyEmbeddingModel(join(root, 'quantized'), { onnxFile: 'model_quantized.onnx' });
    const quantized = join(root, 'quantized', 'onnx', 'model_quantized.onnx');
    const files = walk(repo).map((f) => relative(repo, f));
    const siblings = [...files, 'onnx/model_quantized.onnx', 'pytorch_model.bin'].map((path) => {
      const bytes =
        path === 'onnx/model_quantized.onnx'
          ? readFileSync(quantized)
          : path === 'pytorch_model.bin'
            ? Buffer.from('weights')
            : readFileSync(join(repo, path));
      const lfs = path.endsWith('.onnx') || path.endsWith('.bin');
      return lfs
        ? {
            rfilename: path,
            lfs: { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length },
          }
        : {
            rfilename: path,
            size: bytes.length,
            blobId: createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex'),
          };
    });
    server = createServer((req, res) => {
      const url = req.url ?? '';
      requests.push(url);
      if (url === '/api/models/test-org/tiny-e5/revision/main?blobs=true') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ id: 'test-org/tiny-e5', siblings }));
      }
      const prefix = '/test-org/tiny-e5/resolve/main/';
      if (url.startsWith(prefix)) {
        const path = url.slice(prefix.length);
        const file = path === 'onnx/model_quantized.onnx' ? quantized : join(repo, path);
        if (!existsSync(file)) return res.writeHead(404).end();
        let bytes = readFileSync(file);
        if (path === corrupt)
          bytes = Buffer.concat([
            bytes.subarray(0, -1),
            Buffer.from([bytes[bytes.length - 1] ^ 1]),
          ]);
        res.writeHead(200, { 'content-length': bytes.length });
        return res.end(bytes);
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(root, { recursive: true, force: true });
  });

  beforeEach(() => {
    requests.length = 0;
    corrupt = undefined;
  });

  it('pulls a model folder that the local embedder can run, with progress, and verifies every file', async () => {
    const dir = join(root, 'pulled', 'tiny-e5');
    const progress: { file: string; bytes: number; total: number }[] = [];
    const pulled = await new HuggingFaceModels(endpoint).pull('test-org/tiny-e5', dir, {
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
    const onnx = progress.filter((p) => p.file === 'onnx/model.onnx');
    expect(onnx[onnx.length - 1]).toEqual({
      file: 'onnx/model.onnx',
      bytes: statSync(join(repo, 'onnx', 'model.onnx')).size,
      total: statSync(join(repo, 'onnx', 'model.onnx')).size,
    });
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
    const hub = new HuggingFaceModels(endpoint);
    await hub.pull('test-org/tiny-e5', dir);
    requests.length = 0;
    const second = await hub.pull('test-org/tiny-e5', dir);
    expect(second.files.every((f) => f.skipped)).toBe(true);
    expect(requests.filter((r) => r.includes('/resolve/'))).toEqual([]);
  });

  it('takes the quantised export with quantized', async () => {
    const dir = join(root, 'quantized-pull');
    const pulled = await new HuggingFaceModels(endpoint).pull('test-org/tiny-e5', dir, {
      quantized: true,
    });
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
    corrupt = path;
    const dir = join(root, `corrupt-${path.replace(/\W/g, '_')}`);
    await expect(new HuggingFaceModels(endpoint).pull('test-org/tiny-e5', dir)).rejects.toThrow(
      message,
    );
    expect(existsSync(join(dir, path))).toBe(false);
    expect(existsSync(join(dir, `${path}.part`))).toBe(false);
  });

  it('names the address of a model the hub does not know', async () => {
    await expect(
      new HuggingFaceModels(endpoint).pull('test-org/nothing', join(root, 'x')),
    ).rejects.toThrow(
      /api\/models\/test-org\/nothing\/revision\/main\?blobs=true answered HTTP 404/,
    );
  });
});
