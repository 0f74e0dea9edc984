import { parentPort } from 'node:worker_threads';
import { formatJsonError } from './json-error';
import { parseUpsertBody } from './upsert-body-parser';

/**
 * Parses large upsert bodies off the event loop. Dense vectors (arrays of numbers) are moved
 * into one Float32Array that is transferred back without copying; their places in the parsed
 * value are left null and recorded in `offsets`/`lengths` by position.
 */
interface ParseRequest {
  id: number;
  buffer: ArrayBuffer;
  byteOffset: number;
  byteLength: number;
  /** A `PUT /points` body: try the specialised parser first. */
  upsert?: boolean;
  /** Send the buffer back with the answer, for the next body. */
  recycle?: boolean;
}

/** Posts an answer, with the request's buffer when it is to be reused. */
function reply(request: ParseRequest, message: object, transfer: ArrayBuffer[]): void {
  if (request.recycle) {
    parentPort?.postMessage({ ...message, buffer: request.buffer }, [...transfer, request.buffer]);
  } else {
    parentPort?.postMessage(message, transfer);
  }
}

type Vec = unknown[];

function isDense(value: unknown): value is Vec {
  if (!Array.isArray(value) || value.length === 0) return false;
  for (let i = 0; i < value.length; i++) if (typeof value[i] !== 'number') return false;
  return true;
}

function extract(
  value: unknown,
): { floats: Float32Array; offsets: Int32Array; lengths: Int32Array } | null {
  if (typeof value !== 'object' || value === null) return null;
  const body = value as { points?: unknown; batch?: { vectors?: unknown } };
  let holders: Array<{ get: () => unknown; clear: () => void }> = [];
  if (Array.isArray(body.points)) {
    holders = body.points.map((p) => ({
      get: () =>
        typeof p === 'object' && p !== null ? (p as { vector?: unknown }).vector : undefined,
      clear: () => {
        (p as { vector?: unknown }).vector = null;
      },
    }));
  } else if (
    typeof body.batch === 'object' &&
    body.batch !== null &&
    Array.isArray(body.batch.vectors)
  ) {
    const vectors = body.batch.vectors as unknown[];
    holders = vectors.map((_, i) => ({ get: () => vectors[i], clear: () => (vectors[i] = null) }));
  }
  if (holders.length === 0) return null;
  const offsets = new Int32Array(holders.length).fill(-1);
  const lengths = new Int32Array(holders.length);
  let total = 0;
  holders.forEach((h, i) => {
    const v = h.get();
    if (isDense(v)) {
      offsets[i] = total;
      lengths[i] = v.length;
      total += v.length;
    }
  });
  if (total === 0) return null;
  const floats = new Float32Array(total);
  holders.forEach((h, i) => {
    if (offsets[i] < 0) return;
    floats.set(h.get() as number[], offsets[i]);
    h.clear();
  });
  return { floats, offsets, lengths };
}

parentPort?.on('message', (request: ParseRequest) => {
  const bytes = Buffer.from(request.buffer, request.byteOffset, request.byteLength);
  if (request.upsert) {
    const parsed = parseUpsertBody(bytes);
    if (parsed) {
      // The points in columns: one transferred Float32Array, a few plain arrays to clone.
      const points = parsed.points;
      const floats = points.length > 0 ? points[0].vector : new Float32Array(0);
      const starts = new Int32Array(points.length + 1);
      const ids = new Array<unknown>(points.length);
      const payloads = new Array<unknown>(points.length);
      for (let i = 0; i < points.length; i++) {
        const v = points[i].vector;
        starts[i] = v.byteOffset / 4;
        starts[i + 1] = starts[i] + v.length;
        ids[i] = points[i].id;
        payloads[i] = points[i].payload;
      }
      const columns = { floats: floats.buffer as ArrayBuffer, starts, ids, payloads };
      reply(request, { id: request.id, columns }, [columns.floats, starts.buffer as ArrayBuffer]);
      return;
    }
  }
  const text = bytes.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    reply(request, { id: request.id, error: formatJsonError(text, err) }, []);
    return;
  }
  const extracted = extract(value);
  reply(
    request,
    { id: request.id, value, extracted },
    extracted
      ? [
          extracted.floats.buffer as ArrayBuffer,
          extracted.offsets.buffer as ArrayBuffer,
          extracted.lengths.buffer as ArrayBuffer,
        ]
      : [],
  );
});
