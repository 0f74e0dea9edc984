import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  EmbedderUnavailableError,
  EmbeddingDimensionMismatchError,
  EmbeddingModelError,
  PipelineError,
} from '../pipeline-errors';
import type { EmbeddingKind } from './embedder';
import type { InferenceSettings } from './local-inference';

interface Reply {
  id: number;
  ok: boolean;
  data?: Float32Array;
  errorName?: string;
  errorMessage?: string;
}

interface Task {
  id: number;
  texts: string[];
  kind: EmbeddingKind;
  resolve: (vectors: Float32Array[]) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  task?: Task;
}

// Plain CommonJS, so the same thread runs under the compiled build and under the tests.
// Reply 0 says the model is loaded (or why it is not).
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const libs = {
  ort: require(workerData.ortPath),
  Tokenizer: require(workerData.tokenizersPath).Tokenizer,
};
const failure = (id, err) => ({
  id,
  ok: false,
  errorName: err && err.name,
  errorMessage: err && err.message ? err.message : String(err),
});
const ready = Promise.resolve().then(() =>
  require(workerData.inferencePath).LocalInference.open(workerData.settings, libs),
);
ready.then(
  () => parentPort.postMessage({ id: 0, ok: true }),
  (err) => parentPort.postMessage(failure(0, err)),
);
parentPort.on('message', async ({ id, texts, kind }) => {
  try {
    const inference = await ready;
    const vectors = await inference.embed(texts, kind);
    const dim = inference.settings.dimension;
    const data = new Float32Array(vectors.length * dim);
    vectors.forEach((v, i) => data.set(v, i * dim));
    parentPort.postMessage({ id, ok: true, data }, [data.buffer]);
  } catch (err) {
    parentPort.postMessage(failure(id, err));
  }
});
`;

/**
 * Threads that each hold one ONNX session and tokenizer, so inference never blocks the
 * event loop (BullMQ's lock renewal and the heartbeat keep running) and N batches run on
 * N cores. Batches queue in arrival order; a thread that dies fails its batch as
 * transient (the job retries) and is replaced.
 */
export class EmbeddingThreadPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;

  private constructor(
    private readonly settings: InferenceSettings,
    private readonly threads: number,
  ) {}

  /** Starts `threads` threads and waits until each has loaded the model. */
  static async start(settings: InferenceSettings, threads: number): Promise<EmbeddingThreadPool> {
    const pool = new EmbeddingThreadPool(settings, threads);
    try {
      await Promise.all(Array.from({ length: threads }, () => pool.spawn()));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /** Batches waiting for a thread plus batches running. */
  get pending(): number {
    return this.queue.length + this.slots.filter((s) => s.task).length;
  }

  get size(): number {
    return this.slots.length;
  }

  run(texts: string[], kind: EmbeddingKind): Promise<Float32Array[]> {
    if (this.closed) {
      return Promise.reject(new EmbedderUnavailableError('The embedding threads are shut down'));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, texts, kind, resolve, reject });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const stopped = new EmbedderUnavailableError('The embedding threads are shut down');
    for (const task of this.queue.splice(0)) task.reject(stopped);
    const slots = this.slots.splice(0);
    for (const slot of slots) slot.task?.reject(stopped);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.task || this.queue.length === 0) continue;
      const task = this.queue.shift()!;
      slot.task = task;
      slot.worker.ref();
      slot.worker.postMessage({ id: task.id, texts: task.texts, kind: task.kind });
    }
  }

  private spawn(): Promise<void> {
    const worker = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: {
        ortPath: require.resolve('onnxruntime-node'),
        tokenizersPath: require.resolve('@huggingface/tokenizers'),
        // The sibling module, as .js when built and as .ts under the tests.
        inferencePath: join(__dirname, `local-inference${__filename.slice(-3)}`),
        settings: this.settings,
      },
    });
    const slot: Slot = { worker };
    return new Promise<void>((resolve, reject) => {
      let loaded = false;
      worker.on('message', (reply: Reply) => {
        if (reply.id === 0) {
          // A thread that cannot load the model (or loads it after close) must not linger.
          if (!reply.ok || this.closed) {
            void worker.terminate();
            return reject(
              reply.ok
                ? new EmbedderUnavailableError('The embedding threads are shut down')
                : toError(reply),
            );
          }
          loaded = true;
          // Idle, the threads must not keep the process alive; `pump` refs a busy one.
          worker.unref();
          this.slots.push(slot);
          this.pump();
          return resolve();
        }
        this.finish(slot, reply);
      });
      const fail = (err: Error) => {
        if (!loaded) {
          void worker.terminate();
          return reject(err);
        }
        this.replace(slot, err);
      };
      worker.on('error', (err) =>
        fail(
          new EmbedderUnavailableError(`An embedding thread failed: ${err.message}`, undefined, {
            cause: err,
          }),
        ),
      );
      worker.on('exit', (code) =>
        fail(new EmbedderUnavailableError(`An embedding thread exited (code ${code})`)),
      );
    });
  }

  private finish(slot: Slot, reply: Reply): void {
    const task = slot.task;
    slot.task = undefined;
    slot.worker.unref();
    if (task && task.id === reply.id) {
      if (reply.ok && reply.data) task.resolve(split(reply.data, task.texts.length));
      else task.reject(toError(reply));
    }
    this.pump();
  }

  private replace(slot: Slot, err: Error): void {
    const at = this.slots.indexOf(slot);
    if (at < 0) return; // already replaced or closed
    this.slots.splice(at, 1);
    slot.task?.reject(err);
    slot.task = undefined;
    void slot.worker.terminate();
    if (this.closed) return;
    // A replacement that cannot load fails what waits, instead of leaving it queued.
    this.spawn().catch((spawnErr: Error) => {
      if (this.slots.length > 0) return;
      for (const task of this.queue.splice(0)) task.reject(spawnErr);
    });
  }
}

/** Views into one transferred buffer, built in this realm (Jest runs tests in another). */
function split(data: Float32Array, count: number): Float32Array[] {
  const dim = count > 0 ? data.length / count : 0;
  return Array.from({ length: count }, (_, i) => new Float32Array(data.buffer, i * dim * 4, dim));
}

function toError(reply: Reply): PipelineError {
  const message = reply.errorMessage ?? 'unknown error';
  switch (reply.errorName) {
    case 'EmbeddingModelError':
      return new EmbeddingModelError(message);
    case 'EmbeddingDimensionMismatchError':
      return new EmbeddingDimensionMismatchError(message);
    default:
      return new EmbedderUnavailableError(`Local embedding failed: ${message}`);
  }
}
