/*
 * Local embedding: Quarry's path (LocalEmbedder: batches handed to a thread that
 * tokenises, runs the ONNX session and pools) against the same ONNX model called
 * directly on the main thread on the same batches (tokenise, pad, run, mean-pool,
 * normalise: the least any caller must do). Goal: Quarry's throughput ≥ 0.9 × direct.
 * The model is built here (a few hundred tokens, 384 dimensions, dense layers so the
 * session does real work); nothing is downloaded.
 *   npm run bench:embedding   → bench/results/embedding.json
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { LocalEmbedder } from '@quarry/pipeline';
import { TINY_MODEL_WORDS, writeTinyEmbeddingModel } from '@quarry/testing';
import * as ort from 'onnxruntime-node';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { machineInfo, median, ratio, writeResult } from './support/bench-report';

const TEXTS = Number(process.env.BENCH_TEXTS ?? 1024);
const BATCH = Number(process.env.BENCH_BATCH ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const HIDDEN = 384;
const LAYERS = 4;
const GOAL = 0.9;

/** Deterministic chunk-like passages of 60–200 words drawn from the model's vocabulary. */
function passages(count: number): string[] {
  let seed = 19;
  const rand = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const words = TINY_MODEL_WORDS;
  return Array.from({ length: count }, () => {
    const n = 60 + Math.floor(rand() * 140);
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      out.push(words[Math.floor(rand() * words.length)]);
      if (rand() < 0.08) out.push('.');
    }
    return out.join(' ');
  });
}

/** The same model called by hand: one session on this thread, same options as Quarry's. */
class DirectPath {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly tokenizer: Tokenizer,
  ) {}

  static async open(dir: string): Promise<DirectPath> {
    const session = await ort.InferenceSession.create(join(dir, 'onnx', 'model.onnx'), {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as object;
    return new DirectPath(session, new Tokenizer(json, {}));
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    const rows = texts.map((t) => this.tokenizer.encode(t).ids);
    const width = Math.max(...rows.map((r) => r.length));
    const ids = new BigInt64Array(rows.length * width);
    const mask = new BigInt64Array(rows.length * width);
    rows.forEach((row, r) =>
      row.forEach((id, i) => {
        ids[r * width + i] = BigInt(id);
        mask[r * width + i] = 1n;
      }),
    );
    const dims = [rows.length, width];
    const out = await this.session.run({
      input_ids: new ort.Tensor('int64', ids, dims),
      attention_mask: new ort.Tensor('int64', mask, dims),
      token_type_ids: new ort.Tensor('int64', new BigInt64Array(ids.length), dims),
    });
    const data = out.last_hidden_state.data as Float32Array;
    return rows.map((row, r) => {
      const v = new Float32Array(HIDDEN);
      for (let t = 0; t < row.length; t++) {
        const at = (r * width + t) * HIDDEN;
        for (let h = 0; h < HIDDEN; h++) v[h] += data[at + h];
      }
      let norm = 0;
      for (let h = 0; h < HIDDEN; h++) norm += v[h] * v[h];
      const inv = 1 / Math.sqrt(norm);
      for (let h = 0; h < HIDDEN; h++) v[h] *= inv;
      return v;
    });
  }

  close(): Promise<void> {
    return this.session.release();
  }
}

interface Run {
  ms: number;
  /** worst event-loop delay seen while it ran: what a BullMQ lock renewal would wait */
  loopDelayMaxMs: number;
}

async function timed(batches: string[][], embed: (b: string[]) => Promise<unknown>): Promise<Run> {
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const started = performance.now();
  for (const b of batches) await embed(b);
  const ms = performance.now() - started;
  loop.disable();
  return { ms, loopDelayMaxMs: loop.max / 1e6 };
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'quarry-embedding-bench-'));
  const dir = join(root, 'bench-model');
  writeTinyEmbeddingModel(dir, { hidden: HIDDEN, layers: LAYERS });
  const texts = passages(TEXTS);
  const batches: string[][] = [];
  for (let i = 0; i < texts.length; i += BATCH) batches.push(texts.slice(i, i + BATCH));

  const direct = await DirectPath.open(dir);
  const quarry = new LocalEmbedder({ modelPath: dir, batchSize: BATCH, threads: 1 });
  const quarry2 = new LocalEmbedder({ modelPath: dir, batchSize: BATCH, threads: 2 });
  await Promise.all([quarry.ready(), quarry2.ready()]);
  try {
    // Same vectors, or the comparison means nothing.
    const [a] = await direct.embed(texts.slice(0, 1));
    const [b] = await quarry.embed(texts.slice(0, 1));
    const maxDiff = Math.max(...Array.from(a, (x, i) => Math.abs(x - b[i])));
    if (maxDiff > 1e-4) throw new Error(`the two paths disagree (max difference ${maxDiff})`);

    // Warm both, then alternate so drift in the shared machine's load hits both alike.
    await timed(batches.slice(0, 4), (x) => direct.embed(x));
    await timed(batches.slice(0, 4), (x) => quarry.embed(x));
    const runs = { direct: [] as Run[], quarry: [] as Run[], quarry2: [] as Run[] };
    for (let r = 0; r < ROUNDS; r++) {
      runs.direct.push(await timed(batches, (x) => direct.embed(x)));
      runs.quarry.push(await timed(batches, (x) => quarry.embed(x)));
      // Two threads: the whole document at once, as ingest hands it over.
      runs.quarry2.push(await timed([texts], (x) => quarry2.embed(x)));
    }
    const perSecond = (rs: Run[]) => Math.round(TEXTS / (median(rs.map((x) => x.ms)) / 1000));
    const directRate = perSecond(runs.direct);
    const quarryRate = perSecond(runs.quarry);
    const throughputRatio = ratio(quarryRate, directRate);
    const loopMax = (rs: Run[]) =>
      Math.round(Math.max(...rs.map((x) => x.loopDelayMaxMs)) * 10) / 10;
    const result = {
      benchmark: 'embedding',
      date: new Date().toISOString(),
      machine: machineInfo(),
      settings: {
        texts: TEXTS,
        batchSize: BATCH,
        rounds: ROUNDS,
        model: { hidden: HIDDEN, denseLayers: LAYERS, wholeWords: TINY_MODEL_WORDS.length },
        meanTokensPerText: Math.round(
          texts.slice(0, 100).reduce((s, t) => s + t.split(' ').length + 2, 0) / 100,
        ),
      },
      textsPerSecond: {
        direct: directRate,
        quarryOneThread: quarryRate,
        quarryTwoThreads: perSecond(runs.quarry2),
      },
      eventLoopDelayMaxMs: {
        direct: loopMax(runs.direct),
        quarryOneThread: loopMax(runs.quarry),
        quarryTwoThreads: loopMax(runs.quarry2),
      },
      ratio: throughputRatio,
      goal: `quarry / direct ≥ ${GOAL}`,
      pass: throughputRatio >= GOAL,
    };
    const file = writeResult('embedding', result);
    console.log(JSON.stringify(result, null, 2));
    console.log(`embedding: ratio ${throughputRatio} (goal ≥ ${GOAL}) → ${file}`);
  } finally {
    await Promise.all([quarry.close(), quarry2.close(), direct.close()]);
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
