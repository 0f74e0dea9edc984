import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  CorruptDocumentError,
  EncryptedDocumentError,
  ExtractionLimitError,
  ExtractionTimeoutError,
  NoExtractableTextError,
  PermanentPipelineError,
  type PipelineError,
  TransientPipelineError,
  UnsupportedTypeError,
} from '../pipeline-errors';
import type { ExtractOptions } from './extract-document';
import type { ChunkOptions } from '../chunking/chunker';
import type { ExtractionLimits } from './extraction-limits';
import type {
  ExtractionReply,
  ExtractionRequest,
  ExtractionResult,
  SerialisedError,
} from './extraction-worker';

export interface ExtractionPoolOptions {
  /** Threads, each reading one document at a time (`EXTRACT_THREADS`). */
  threads: number;
  /** A document that takes longer is abandoned and its thread ended (`EXTRACT_TIMEOUT_MS`). */
  timeoutMs: number;
  /** Old-generation heap of each thread (`EXTRACT_MAX_HEAP_MB`). */
  maxHeapMb: number;
  limits: ExtractionLimits;
}

interface Task {
  id: number;
  data: ArrayBuffer;
  options: ExtractOptions;
  chunking?: ChunkOptions;
  resolve: (result: ExtractionResult) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  task?: Task;
  timer?: NodeJS.Timeout;
  watch?: NodeJS.Timeout;
}

/** How often a busy thread's memory is read (see `watchMemory`). */
const MEMORY_CHECK_MS = 100;

/*
 * Loads the thread's entry. Built code runs the compiled .js; the test runner works from
 * the TypeScript sources, so there the thread compiles them on load with SWC, as the test
 * runner does for the main thread.
 */
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
if (workerData.swcPath) {
  const fs = require('node:fs');
  const swc = require(workerData.swcPath);
  require.extensions['.ts'] = (module, filename) => {
    const { code } = swc.transformSync(fs.readFileSync(filename, 'utf8'), {
      filename,
      swcrc: false,
      jsc: { target: 'es2023', parser: { syntax: 'typescript' } },
      module: { type: 'commonjs' },
    });
    module._compile(code, filename);
  };
}
require(workerData.entry);
`;

/**
 * A small pool of extraction threads. Each thread reads one document at a time under a
 * wall-clock limit and a heap limit; a document that passes either costs its thread (ended
 * and replaced on the next task), never the process. Idle threads do not keep the process
 * alive. Call `close()` on shutdown.
 */
export class ExtractionPool {
  private readonly slots = new Set<Slot>();
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: ExtractionPoolOptions) {}

  run(
    bytes: Uint8Array,
    options: ExtractOptions,
    chunking?: ChunkOptions,
  ): Promise<ExtractionResult> {
    if (this.closed) {
      return Promise.reject(new TransientPipelineError('The document extractor was closed.'));
    }
    // A fresh copy the thread can own: the caller's buffer stays usable, and a small
    // Node Buffer is a view into a shared pool that cannot be transferred.
    const copy = new Uint8Array(bytes.byteLength);
    copy.set(bytes);
    return new Promise<ExtractionResult>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, data: copy.buffer, options, chunking, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const closing = new TransientPipelineError('The document extractor was closed.');
    for (const task of this.queue.splice(0)) task.reject(closing);
    const workers: Worker[] = [];
    for (const slot of this.slots) {
      this.finish(slot, () => slot.task?.reject(closing));
      workers.push(slot.worker);
    }
    this.slots.clear();
    await Promise.all(workers.map((w) => w.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const slot = this.idleSlot();
      if (!slot) return;
      this.start(slot, this.queue.shift()!);
    }
  }

  private idleSlot(): Slot | undefined {
    for (const slot of this.slots) if (!slot.task) return slot;
    if (this.slots.size >= this.options.threads) return undefined;
    const slot = this.spawn();
    this.slots.add(slot);
    return slot;
  }

  private start(slot: Slot, task: Task): void {
    slot.task = task;
    slot.timer = setTimeout(() => {
      this.retire(slot);
      task.reject(
        new ExtractionTimeoutError(
          `Reading this document took longer than EXTRACT_TIMEOUT_MS (${this.options.timeoutMs} ms) and was stopped.`,
        ),
      );
    }, this.options.timeoutMs);
    slot.watch = setInterval(() => void this.watchMemory(slot, task), MEMORY_CHECK_MS);
    slot.watch.unref();
    slot.worker.ref();
    const request: ExtractionRequest = {
      id: task.id,
      data: task.data,
      options: task.options,
      chunking: task.chunking,
    };
    slot.worker.postMessage(request, [task.data]);
  }

  private spawn(): Slot {
    const entry = path.join(__dirname, `extraction-worker${path.extname(__filename)}`);
    const worker = new Worker(BOOTSTRAP, {
      eval: true,
      workerData: {
        entry,
        swcPath: entry.endsWith('.ts') ? require.resolve('@swc/core') : undefined,
        limits: this.options.limits,
      },
      resourceLimits: { maxOldGenerationSizeMb: this.options.maxHeapMb },
    });
    const slot: Slot = { worker };
    worker.on('message', (reply: ExtractionReply) => {
      const task = slot.task;
      if (!task || task.id !== reply.id) return;
      this.finish(slot, () =>
        reply.ok ? task.resolve(reply.result) : task.reject(reviveError(reply.error)),
      );
      this.dispatch();
    });
    worker.on('error', (err: Error & { code?: string }) => {
      const task = slot.task;
      this.retire(slot);
      task?.reject(
        err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? this.outOfMemory()
          : new TransientPipelineError(`The extraction thread failed: ${err.message}`, {
              cause: err,
            }),
      );
    });
    worker.on('exit', () => {
      const task = slot.task;
      this.retire(slot);
      task?.reject(new TransientPipelineError('The extraction thread exited unexpectedly.'));
    });
    // Idle, a thread must not keep the process alive; `start` refs it while busy.
    worker.unref();
    return slot;
  }

  /*
   * `resourceLimits` bounds the thread's JavaScript heap only; array buffers (a PDF
   * stream PDF.js inflates, an unzipped entry) live outside it. So a busy thread's heap
   * plus external memory is read every MEMORY_CHECK_MS and held to the same limit.
   */
  private async watchMemory(slot: Slot, task: Task): Promise<void> {
    const stats = await slot.worker.getHeapStatistics().catch(() => undefined);
    if (!stats || slot.task !== task) return;
    if (stats.used_heap_size + stats.external_memory <= this.options.maxHeapMb * 1024 * 1024) {
      return;
    }
    this.retire(slot);
    task.reject(this.outOfMemory());
  }

  private outOfMemory(): ExtractionLimitError {
    return new ExtractionLimitError(
      'EXTRACT_MAX_HEAP_MB',
      `This document is too large to index: reading it needed more memory than EXTRACT_MAX_HEAP_MB (${this.options.maxHeapMb} MB) allows.`,
    );
  }

  /** Clears the slot's task, then settles it, so a settled task is never settled twice. */
  private finish(slot: Slot, settle: () => void): void {
    clearTimeout(slot.timer);
    clearInterval(slot.watch);
    slot.timer = undefined;
    slot.watch = undefined;
    slot.worker.unref();
    settle();
    slot.task = undefined;
  }

  /** Ends a thread whose document misbehaved; the next task gets a fresh one. */
  private retire(slot: Slot): void {
    if (!this.slots.delete(slot)) return;
    clearTimeout(slot.timer);
    clearInterval(slot.watch);
    slot.task = undefined;
    void slot.worker.terminate();
    if (!this.closed) this.dispatch();
  }
}

/** The PipelineError a thread threw, rebuilt on this side of the boundary. */
function reviveError(error: SerialisedError): PipelineError {
  switch (error.code) {
    case 'limit_exceeded':
      return new ExtractionLimitError(error.limit ?? 'unknown', error.message);
    case 'extraction_timeout':
      return new ExtractionTimeoutError(error.message);
    case 'unsupported_type':
      return new UnsupportedTypeError(error.detected ?? 'unknown', error.message);
    case 'corrupt_document':
      return new CorruptDocumentError(error.message);
    case 'encrypted_document':
      return new EncryptedDocumentError(error.message);
    case 'no_extractable_text':
      return new NoExtractableTextError(error.message);
    case 'permanent':
      return new PermanentPipelineError(error.message);
    default:
      // Not a PipelineError: a bug or a fault, so the retry budget decides.
      return new TransientPipelineError(`Extraction failed: ${error.name}: ${error.message}`);
  }
}
