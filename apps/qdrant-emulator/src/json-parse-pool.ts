import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { formatJsonError } from './json-error';
import { QdrantError } from './qdrant-error';
import { ParsedPoint, parseUpsertBody, pointsOf } from './upsert-body-parser';

interface Extracted {
  floats: Float32Array;
  offsets: Int32Array;
  lengths: Int32Array;
}

/** A points body the specialised parser read, in columns (see json-parse-worker.ts). */
interface PointColumns {
  floats: ArrayBuffer;
  starts: Int32Array;
  ids: ParsedPoint['id'][];
  payloads: ParsedPoint['payload'][];
}

interface ParseReply {
  id: number;
  value?: unknown;
  extracted?: Extracted | null;
  columns?: PointColumns;
  error?: string;
  /** The body's memory, handed back for the next large body (see bodyBuffer()). */
  buffer?: ArrayBuffer;
}

/** Bodies smaller than this are parsed on the event loop; the hand-off costs more than it saves. */
export const OFFLOAD_BYTES = 256 * 1024;
/** Body buffers kept for reuse, and the largest one kept. */
const KEPT_BODIES = 4;
const KEPT_BODY_BYTES = 64 * 1024 * 1024;

/**
 * Parses large upsert bodies in a worker thread so parsing the next batch overlaps applying
 * the current one. Dense vectors come back as Float32Array views in place of number arrays.
 */
export class JsonParsePool {
  private worker: Worker | null = null;
  private nextId = 0;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  /** Memory of bodies the worker has finished with, and the buffers handed out from it. */
  private readonly free: ArrayBuffer[] = [];
  private readonly lent = new WeakSet<ArrayBufferLike>();

  constructor() {
    const script = path.join(__dirname, 'json-parse-worker.js');
    if (!fs.existsSync(script)) return;
    this.worker = new Worker(script);
    this.worker.unref();
    this.worker.on('message', (reply: ParseReply) => this.settle(reply));
    this.worker.on('error', (err) => {
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      this.worker = null;
    });
  }

  private settle(reply: ParseReply): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    if (
      reply.buffer &&
      this.free.length < KEPT_BODIES &&
      reply.buffer.byteLength <= KEPT_BODY_BYTES
    )
      this.free.push(reply.buffer);
    if (reply.error !== undefined) {
      pending.reject(QdrantError.format(reply.error));
      return;
    }
    if (reply.columns) {
      pending.resolve(fromColumns(reply.columns));
      return;
    }
    const value = reply.value;
    const extracted = reply.extracted;
    if (extracted) restore(value, extracted);
    pending.resolve(value);
  }

  parse(body: Buffer, parseInline: () => unknown): Promise<unknown> {
    return this.send(body, parseInline, false);
  }

  /**
   * A buffer to read a large request body into (null for small ones, or without a worker).
   * Its memory is reused once the worker has parsed it and handed it back: a fresh 8 MB
   * buffer costs a page fault per 4 KiB as it is filled, more than the copy itself.
   */
  bodyBuffer(length: number): Buffer | null {
    if (!this.worker || length < OFFLOAD_BYTES) return null;
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const size = this.free[i].byteLength;
      if (size >= length && (best < 0 || size < this.free[best].byteLength)) best = i;
    }
    const memory =
      best >= 0
        ? this.free.splice(best, 1)[0]
        : new ArrayBuffer(Math.ceil((length * 1.125) / 65536) * 65536);
    this.lent.add(memory);
    return Buffer.from(memory, 0, length);
  }

  /**
   * An upsert body: `{points}` in the plain form is read by the specialised parser (into
   * Float32Array vectors); anything else, malformed bodies included, as by parse().
   */
  parseUpsert(body: Buffer, parseInline: () => unknown): Promise<unknown> {
    return this.send(body, () => parseUpsertBody(body) ?? parseInline(), true);
  }

  private send(body: Buffer, parseInline: () => unknown, upsert: boolean): Promise<unknown> {
    if (!this.worker || body.length < OFFLOAD_BYTES) return Promise.resolve().then(parseInline);
    const id = this.nextId++;
    // The worker must own the bytes: hand over a buffer the body fills alone (or one lent by
    // bodyBuffer(), which comes back), copy otherwise (small socket chunks share pooled memory).
    const recycle = this.lent.has(body.buffer);
    const whole = recycle || (body.byteOffset === 0 && body.byteLength === body.buffer.byteLength);
    const owned = whole ? body : Uint8Array.from(body);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker?.postMessage(
        {
          id,
          buffer: owned.buffer,
          byteOffset: owned.byteOffset,
          byteLength: owned.byteLength,
          upsert,
          recycle,
        },
        [owned.buffer as ArrayBuffer],
      );
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }
}

function fromColumns(columns: PointColumns): { points: ParsedPoint[] } {
  const { starts, ids, payloads } = columns;
  return { points: pointsOf(new Float32Array(columns.floats), starts, ids, payloads) };
}

function restore(value: unknown, extracted: Extracted): void {
  const body = value as { points?: Array<{ vector?: unknown }>; batch?: { vectors?: unknown[] } };
  const view = (i: number) =>
    extracted.floats.subarray(extracted.offsets[i], extracted.offsets[i] + extracted.lengths[i]);
  if (Array.isArray(body.points)) {
    body.points.forEach((p, i) => {
      if (extracted.offsets[i] >= 0) p.vector = view(i);
    });
  } else if (body.batch && Array.isArray(body.batch.vectors)) {
    const vectors = body.batch.vectors;
    vectors.forEach((_, i) => {
      if (extracted.offsets[i] >= 0) vectors[i] = view(i);
    });
  }
}

export { formatJsonError };
