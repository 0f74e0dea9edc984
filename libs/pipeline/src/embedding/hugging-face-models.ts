import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface ModelFile {
  /** path inside the repository, e.g. `onnx/model.onnx` */
  path: string;
  size?: number;
  /** sha256 of an LFS file (the weights), as the hub lists it */
  sha256?: string;
  /** git blob sha1 of a small file (the JSON files) */
  gitSha1?: string;
}

export interface PullOptions {
  /** the int8-quantised ONNX export instead of the full one */
  quantized?: boolean;
  revision?: string;
  onProgress?: (event: { file: string; bytes: number; total: number }) => void;
}

export interface PulledModel {
  dir: string;
  files: { path: string; bytes: number; sha256: string; skipped: boolean }[];
}

interface HubSibling {
  rfilename?: unknown;
  size?: unknown;
  blobId?: unknown;
  lfs?: { sha256?: unknown; size?: unknown };
}

// What a model folder needs (readLocalModelFolder) plus what describes it; weights in
// other formats (PyTorch, safetensors) are never fetched.
const FOLDER_FILES = [
  'config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'modules.json',
  '1_Pooling/config.json',
];
const FULL_ONNX = ['onnx/model.onnx'];
const QUANTIZED_ONNX = [
  'onnx/model_quantized.onnx',
  'onnx/model_int8.onnx',
  'onnx/model_qint8_avx512.onnx',
];

/**
 * Downloads an embedding model folder from the Hugging Face hub (or a mirror at the
 * same layout: `HF_ENDPOINT`): the file list with checksums from `/api/models/{id}`,
 * each file from `/{id}/resolve/{revision}/{path}` into `<file>.part`, verified
 * (sha256 for LFS files, git blob sha1 for the others) before it takes its name. A
 * file already present with the right checksum is not fetched again.
 */
export class HuggingFaceModels {
  constructor(
    private readonly endpoint = 'https://huggingface.co',
    private readonly token?: string,
  ) {}

  async files(
    id: string,
    { quantized = false, revision = 'main' }: PullOptions = {},
  ): Promise<ModelFile[]> {
    const url = `${this.base()}/api/models/${id}/revision/${encodeURIComponent(revision)}?blobs=true`;
    const res = await this.get(url);
    const body = (await res.json()) as { siblings?: HubSibling[] };
    const listed = new Map<string, ModelFile>();
    for (const s of body.siblings ?? []) {
      if (typeof s.rfilename !== 'string') continue;
      const size =
        typeof s.lfs?.size === 'number'
          ? s.lfs.size
          : typeof s.size === 'number'
            ? s.size
            : undefined;
      listed.set(s.rfilename, {
        path: s.rfilename,
        size,
        sha256: typeof s.lfs?.sha256 === 'string' ? s.lfs.sha256 : undefined,
        gitSha1: !s.lfs && typeof s.blobId === 'string' ? s.blobId : undefined,
      });
    }
    const onnx = (quantized ? QUANTIZED_ONNX : FULL_ONNX).find((f) => listed.has(f));
    if (!onnx) {
      throw new Error(
        `${id} has no ${quantized ? 'quantised ONNX export (onnx/model_quantized.onnx)' : 'ONNX export (onnx/model.onnx)'}: choose a repository that ships one${quantized ? ', or pull without --quantized' : ''}`,
      );
    }
    for (const required of ['config.json', 'tokenizer.json']) {
      if (!listed.has(required))
        throw new Error(`${id} has no ${required}: it cannot be run as a local model`);
    }
    const wanted = [...FOLDER_FILES, onnx, `${onnx}_data`];
    return wanted.flatMap((f) => listed.get(f) ?? []);
  }

  async pull(id: string, dir: string, options: PullOptions = {}): Promise<PulledModel> {
    const revision = options.revision ?? 'main';
    const files = await this.files(id, options);
    const pulled: PulledModel['files'] = [];
    for (const file of files) {
      const target = join(dir, file.path);
      if (existsSync(target) && (await matches(target, file))) {
        pulled.push({
          path: file.path,
          bytes: statSync(target).size,
          sha256: await sha256Of(target),
          skipped: true,
        });
        continue;
      }
      mkdirSync(dirname(target), { recursive: true });
      const part = `${target}.part`;
      try {
        const url = `${this.base()}/${id}/resolve/${encodeURIComponent(revision)}/${file.path}`;
        const got = await this.download(url, part, file, options.onProgress);
        renameSync(part, target);
        pulled.push({ path: file.path, bytes: got.bytes, sha256: got.sha256, skipped: false });
      } finally {
        rmSync(part, { force: true });
      }
    }
    return { dir, files: pulled };
  }

  private async download(
    url: string,
    part: string,
    file: ModelFile,
    onProgress: PullOptions['onProgress'],
  ): Promise<{ bytes: number; sha256: string }> {
    const res = await this.get(url);
    const total = file.size ?? Number(res.headers.get('content-length') ?? 0);
    const sha256 = createHash('sha256');
    const gitSha1 = createHash('sha1').update(`blob ${file.size ?? 0}\0`);
    const out = await open(part, 'w');
    let bytes = 0;
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        await out.write(chunk);
        sha256.update(chunk);
        gitSha1.update(chunk);
        bytes += chunk.length;
        onProgress?.({ file: file.path, bytes, total });
      }
    } finally {
      await out.close();
    }
    const digest = sha256.digest('hex');
    if (file.size !== undefined && bytes !== file.size) {
      throw new Error(
        `${file.path}: received ${bytes} bytes, the hub lists ${file.size}; pull again`,
      );
    }
    if (file.sha256 && digest !== file.sha256) {
      throw new Error(
        `${file.path}: sha256 ${digest} does not match the hub's ${file.sha256}; pull again`,
      );
    }
    const blob = gitSha1.digest('hex');
    if (file.gitSha1 && file.size !== undefined && blob !== file.gitSha1) {
      throw new Error(
        `${file.path}: git blob ${blob} does not match the hub's ${file.gitSha1}; pull again`,
      );
    }
    return { bytes, sha256: digest };
  }

  private async get(url: string): Promise<Response> {
    const res = await fetch(url, {
      headers: this.token ? { authorization: `Bearer ${this.token}` } : {},
      redirect: 'follow',
    });
    if (!res.ok) {
      await res.body?.cancel();
      const hint =
        res.status === 401 || res.status === 403 ? ' (a gated model needs HF_TOKEN)' : '';
      throw new Error(`${url} answered HTTP ${res.status}${hint}`);
    }
    return res;
  }

  private base(): string {
    return this.endpoint.replace(/(?<!\/)\/+$/, '');
  }
}

async function matches(path: string, file: ModelFile): Promise<boolean> {
  if (file.size !== undefined && statSync(path).size !== file.size) return false;
  if (file.sha256) return (await sha256Of(path)) === file.sha256;
  if (file.gitSha1 && file.size !== undefined) {
    const h = createHash('sha1').update(`blob ${file.size}\0`);
    for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
    return h.digest('hex') === file.gitSha1;
  }
  return false;
}

async function sha256Of(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}
