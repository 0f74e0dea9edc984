import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { formatJsonError } from './json-error';
import { QdrantError } from './qdrant-error';
import { ParsedPoint, parseUpsertBody } from './upsert-body-parser';

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
}

/** Bodies smaller than this are parsed on the event loop; the hand-off costs more than it saves. */
const OFFLOAD_BYTES = 256 * 1024;

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
   * An upsert body: `{points}` in the plain form is read by the specialised parser (into
   * Float32Array vectors); anything else, malformed bodies included, as by parse().
   */
  parseUpsert(body: Buffer, parseInline: () => unknown): Promise<unknown> {
    return this.send(body, () => parseUpsertBody(body) ?? parseInline(), true);
  }

  private send(body: Buffer, parseInline: () => unknown, upsert: boolean): Promise<unknown> {
    if (!this.worker || body.length < OFFLOAD_BYTES) return Promise.resolve().then(parseInline);
    const id = this.nextId++;
    // The worker must own the bytes: hand over a buffer the body fills alone, copy otherwise
    // (small socket chunks share pooled memory).
    const whole = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength;
    const owned = whole ? new Uint8Array(body.buffer, 0, body.byteLength) : Uint8Array.from(body);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker?.postMessage(
        { id, buffer: owned.buffer, byteOffset: 0, byteLength: owned.length, upsert },
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
  const floats = new Float32Array(columns.floats);
  const { starts, ids, payloads } = columns;
  const points: ParsedPoint[] = new Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const point: ParsedPoint = { id: ids[i], vector: floats.subarray(starts[i], starts[i + 1]) };
    if (payloads[i] !== undefined) point.payload = payloads[i];
    points[i] = point;
  }
  return { points };
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
