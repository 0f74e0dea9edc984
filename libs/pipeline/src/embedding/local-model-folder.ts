import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { EmbeddingModelError } from '../pipeline-errors';
import type { EmbeddingPooling } from './embedding-profile';

/** What Quarry reads from a model folder in Hugging Face layout. */
export interface LocalModelFolder {
  path: string;
  /** the folder's name: the model's name when EMBEDDING_MODEL says nothing better */
  name: string;
  modelFile: string;
  tokenizerJson: object;
  tokenizerConfig: object;
  /** hidden size from config.json: the dimension of the vectors */
  hiddenSize: number;
  /** the window in tokens, special tokens included */
  maxTokens: number;
  /** from sentence-transformers' 1_Pooling/config.json, when present */
  pooling?: EmbeddingPooling;
}

const LAYOUT = 'config.json, tokenizer.json and onnx/model.onnx';
// RoBERTa-family position tables start after the padding index, so two slots are unusable.
const OFFSET_POSITIONS = new Set(['roberta', 'xlm-roberta', 'camembert']);

/**
 * Reads and checks a model folder before any thread starts: every problem is refused
 * with one line that names the file and says what to do.
 */
export function readLocalModelFolder(path: string | undefined): LocalModelFolder {
  if (!path) {
    throw new EmbeddingModelError(
      `EMBEDDING_MODEL_PATH must be set when EMBEDDING_PROVIDER=local: point it at a model folder with ${LAYOUT}`,
    );
  }
  if (!existsSync(path) || !statSync(path).isDirectory()) {
    throw new EmbeddingModelError(
      `EMBEDDING_MODEL_PATH=${path} is not a folder: download the model there (${LAYOUT}) or correct the path`,
    );
  }
  const config = readJson(path, 'config.json');
  const tokenizerJson = readJson(path, 'tokenizer.json');
  const tokenizerConfig = existsSync(join(path, 'tokenizer_config.json'))
    ? readJson(path, 'tokenizer_config.json')
    : {};
  const hiddenSize = firstInteger(config, ['hidden_size', 'd_model', 'dim']);
  if (!hiddenSize) {
    throw new EmbeddingModelError(
      `${join(path, 'config.json')} has no hidden_size: it is not a transformer encoder's config; download the model's config.json again`,
    );
  }
  return {
    path,
    name: basename(path),
    modelFile: onnxFile(path),
    tokenizerJson,
    tokenizerConfig,
    hiddenSize,
    maxTokens: windowOf(config, tokenizerConfig),
    pooling: poolingOf(path),
  };
}

/** `onnx/model.onnx`, else a quantised or other `model*.onnx` there or at the top. */
function onnxFile(path: string): string {
  for (const dir of [join(path, 'onnx'), path]) {
    if (!existsSync(dir)) continue;
    const files = readdirSync(dir).filter((f) => /^model.*\.onnx$/.test(f));
    const preferred = ['model.onnx', 'model_quantized.onnx', 'model_int8.onnx'].find((f) =>
      files.includes(f),
    );
    const file = preferred ?? files.sort()[0];
    if (file) return checkedOnnx(join(dir, file));
  }
  throw new EmbeddingModelError(
    `${path} has no onnx/model.onnx: download the model's ONNX export into ${join(path, 'onnx')}`,
  );
}

/**
 * An ONNX file is a ModelProto whose first field is ir_version (field 1, varint: byte
 * 0x08). Checking that byte refuses an HTML error page or a Git LFS pointer saved as
 * model.onnx before any thread starts; the runtime checks the rest.
 */
function checkedOnnx(file: string): string {
  const first = Buffer.alloc(1);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, first, 0, 1, 0);
  } finally {
    closeSync(fd);
  }
  if (first[0] !== 0x08) {
    throw new EmbeddingModelError(
      `${file} is not an ONNX model (a Git LFS pointer or an error page?): download the model's onnx/ folder again`,
    );
  }
  return file;
}

function readJson(dir: string, file: string): Record<string, unknown> {
  const full = join(dir, file);
  if (!existsSync(full)) {
    throw new EmbeddingModelError(
      `${full} is missing: a model folder needs ${LAYOUT}; download the model's ${file}`,
    );
  }
  try {
    const value: unknown = JSON.parse(readFileSync(full, 'utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  } catch {
    // reported below
  }
  throw new EmbeddingModelError(`${full} is not a JSON object: download the model's ${file} again`);
}

function firstInteger(o: Record<string, unknown>, keys: string[]): number | undefined {
  for (const k of keys) {
    const v = o[k];
    if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
  }
  return undefined;
}

function windowOf(config: Record<string, unknown>, tokenizerConfig: object): number {
  const positions = firstInteger(config, ['max_position_embeddings', 'n_positions']);
  const usable =
    positions && OFFSET_POSITIONS.has(String(config.model_type)) ? positions - 2 : positions;
  // Tokenizers without a limit write a huge sentinel (1e30) as model_max_length.
  const declared = firstInteger(tokenizerConfig as Record<string, unknown>, ['model_max_length']);
  const sane = declared && declared <= 1_000_000 ? declared : undefined;
  return Math.min(usable ?? 512, sane ?? Number.MAX_SAFE_INTEGER);
}

function poolingOf(path: string): EmbeddingPooling | undefined {
  const file = join(path, '1_Pooling', 'config.json');
  if (!existsSync(file)) return undefined;
  const p = readJson(join(path, '1_Pooling'), 'config.json');
  if (p.pooling_mode_cls_token === true) return 'cls';
  if (p.pooling_mode_mean_tokens === true) return 'mean';
  return undefined;
}
