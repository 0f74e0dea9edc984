import { JsonObject } from './json-value';
import { parseUuid, PointId } from './point-id';

/** One point of a `{points: [...]}` upsert body, its dense vector already in float32. */
export interface ParsedPoint {
  id: PointId;
  vector: Float32Array;
  payload?: JsonObject | null;
}

/**
 * A parser for the one body shape bulk loaders send, `{"points": [{"id", "vector": [numbers],
 * "payload"}, ...]}`, straight from the bytes: the vectors go into one Float32Array without a
 * string, a JS array or a double per number in between.
 *
 * It decides nothing on its own. It gives up (returns null) on anything else — other keys,
 * named or sparse vectors, the batch form, ids that need a message, payloads that are not
 * objects, a duplicate key and any syntax error — and the caller then parses the body with
 * JSON.parse and validates it as before, so every error, and its order, stays what it was.
 * What it does accept is exactly what JSON.parse would read from the same bytes, with each
 * number rounded to float32 as a Float32Array rounds JSON.parse's double.
 */
export function parseUpsertBody(body: Buffer): { points: ParsedPoint[] } | null {
  try {
    return new UpsertBodyParser(body).parse();
  } catch {
    // Every failure inside (a payload JSON.parse refuses, a bail-out) means: not for us.
    return null;
  }
}

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;

// The powers of ten a double holds exactly.
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));
// Above 2^53 the mantissa (at most 36 digits, summed up to four at a time) is off by at most
// ~16 roundings of 2^-53, plus one for the power of ten. A decimal whose float32 is the same at both ends of a
// 2^-46 relative interval around the estimate rounds to that float32 however it is read.
const LOW = 1 - 2 ** -46;
const HIGH = 1 + 2 ** -46;
const EXACT = 2 ** 53;
const MAX_DIGITS = 36;

class Bail extends Error {}
const BAIL = new Bail('not a plain points body');

class UpsertBodyParser {
  private pos = 0;
  private floats: Float32Array;
  private used = 0;
  private readonly view: DataView;

  constructor(private readonly bytes: Buffer) {
    this.floats = scratch(1024);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  parse(): { points: ParsedPoint[] } {
    const b = this.bytes;
    this.expect(OPEN_BRACE);
    this.skipSpace();
    if (b[this.pos] === CLOSE_BRACE) throw BAIL;
    if (this.key() !== 'points') throw BAIL;
    this.expect(OPEN_BRACKET);
    const ids: PointId[] = [];
    const starts: number[] = [];
    const payloads: Array<JsonObject | null | undefined> = [];
    this.skipSpace();
    if (b[this.pos] === CLOSE_BRACKET) {
      this.pos++;
    } else {
      for (;;) {
        this.point(ids, starts, payloads);
        this.skipSpace();
        const c = b[this.pos++];
        if (c === CLOSE_BRACKET) break;
        if (c !== COMMA) throw BAIL;
      }
    }
    this.expect(CLOSE_BRACE);
    this.skipSpace();
    if (this.pos !== b.length) throw BAIL;
    // One buffer the caller owns: cut to size, so the scratch space is reused next time.
    const floats = this.floats.slice(0, this.used);
    starts.push(this.used);
    return { points: pointsOf(floats, starts, ids, payloads) };
  }

  private point(
    ids: PointId[],
    starts: number[],
    payloads: Array<JsonObject | null | undefined>,
  ): void {
    const b = this.bytes;
    this.expect(OPEN_BRACE);
    let id: PointId | undefined;
    let start = -1;
    let payload: JsonObject | null | undefined;
    let seenPayload = false;
    this.skipSpace();
    if (b[this.pos] === CLOSE_BRACE) throw BAIL;
    for (;;) {
      const key = this.key();
      if (key === 'id' && id === undefined) id = this.id();
      else if (key === 'vector' && start < 0) start = this.vector();
      else if (key === 'payload' && !seenPayload) {
        seenPayload = true;
        payload = this.payload();
      } else throw BAIL;
      this.skipSpace();
      const c = b[this.pos++];
      if (c === CLOSE_BRACE) break;
      if (c !== COMMA) throw BAIL;
    }
    if (id === undefined || start < 0) throw BAIL;
    ids.push(id);
    starts.push(start);
    payloads.push(payload);
  }

  private skipSpace(): void {
    const b = this.bytes;
    let i = this.pos;
    let c = b[i];
    while (c === SPACE || c === LF || c === CR || c === TAB) c = b[++i];
    this.pos = i;
  }

  private expect(byte: number): void {
    this.skipSpace();
    if (this.bytes[this.pos] !== byte) throw BAIL;
    this.pos++;
  }

  /** `"name"` then `:`; only plain ASCII keys (an escape or other bytes: not ours). */
  private key(): string {
    const b = this.bytes;
    this.skipSpace();
    if (b[this.pos] !== QUOTE) throw BAIL;
    const start = ++this.pos;
    let i = start;
    let c = b[i];
    while (c !== QUOTE) {
      if (c === undefined || c === BACKSLASH || c < SPACE || c >= 0x7f) throw BAIL;
      c = b[++i];
    }
    this.pos = i + 1;
    this.expect(COLON);
    return b.toString('latin1', start, i);
  }

  /** An unsigned integer no larger than a double holds exactly, or a UUID string. */
  private id(): PointId {
    const b = this.bytes;
    this.skipSpace();
    let i = this.pos;
    let c = b[i];
    if (c === QUOTE) {
      const start = ++i;
      c = b[i];
      while (c !== QUOTE) {
        if (c === undefined || c === BACKSLASH || c < SPACE || c >= 0x7f) throw BAIL;
        c = b[++i];
      }
      this.pos = i + 1;
      const uuid = parseUuid(b.toString('latin1', start, i));
      if (uuid === null) throw BAIL;
      return uuid;
    }
    if (c < ZERO || c > NINE) throw BAIL;
    const start = i;
    let value = 0;
    do {
      value = value * 10 + (c - ZERO);
      c = b[++i];
    } while (c >= ZERO && c <= NINE);
    // No leading zeros, no fraction or exponent (JSON.parse accepts `1.0`; leave it to it).
    if ((b[start] === ZERO && i - start > 1) || c === DOT || c === LOWER_E || c === UPPER_E)
      throw BAIL;
    if (i - start > 16 || value > Number.MAX_SAFE_INTEGER) throw BAIL;
    this.pos = i;
    return value;
  }

  /** A non-empty array of numbers, appended to the float buffer; returns where it starts. */
  private vector(): number {
    const b = this.bytes;
    this.expect(OPEN_BRACKET);
    const start = this.used;
    let i = this.pos;
    let c = b[i];
    while (c === SPACE || c === LF || c === CR || c === TAB) c = b[++i];
    if (c === CLOSE_BRACKET) throw BAIL;
    let floats = this.floats;
    let used = this.used;
    const length = b.length;
    const view = this.view;
    for (;;) {
      // One JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, its significant
      // digits summed into a double, exact below 2^53.
      const numberStart = i;
      const negative = c === MINUS;
      if (negative) c = b[++i];
      let mantissa = 0;
      let exponent = 0;
      let digits = 0;
      if (c === ZERO) {
        c = b[++i];
        if (c >= ZERO && c <= NINE) throw BAIL;
      } else if (c > ZERO && c <= NINE) {
        do {
          mantissa = mantissa * 10 + (c - ZERO);
          digits++;
          c = b[++i];
        } while (c >= ZERO && c <= NINE);
      } else throw BAIL;
      if (c === DOT) {
        i++;
        // The fraction eight digits at a time (SWAR): in each 4-byte word the non-digit bytes
        // are flagged, and the digits before the first one combined in two multiply-adds.
        const from = i;
        for (;;) {
          const first = digitsOf(view, b, i, length);
          if (first < 0) break;
          if (first < FULL) {
            const count = first >>> 16;
            mantissa = mantissa * POW10[count] + (first & 0xffff);
            i += count;
            break;
          }
          const second = digitsOf(view, b, i + 4, length);
          if (second >= FULL) {
            mantissa = mantissa * 1e8 + ((first & 0xffff) * 10000 + (second & 0xffff));
            i += 8;
            continue;
          }
          const count = second < 0 ? 0 : second >>> 16;
          mantissa =
            mantissa * POW10[4 + count] +
            ((first & 0xffff) * POW10[count] + (second < 0 ? 0 : second & 0xffff));
          i += 4 + count;
          break;
        }
        const fraction = i - from;
        if (fraction === 0) throw BAIL;
        digits += fraction;
        exponent = -fraction;
        c = b[i];
      }
      if (c === LOWER_E || c === UPPER_E) {
        c = b[++i];
        let exponentNegative = false;
        if (c === PLUS || c === MINUS) {
          exponentNegative = c === MINUS;
          c = b[++i];
        }
        if (c < ZERO || c > NINE) throw BAIL;
        let e = 0;
        do {
          if (e < 1e6) e = e * 10 + (c - ZERO);
          c = b[++i];
        } while (c >= ZERO && c <= NINE);
        exponent += exponentNegative ? -e : e;
      }
      let value: number;
      if (mantissa === 0) {
        value = 0;
      } else if (digits <= MAX_DIGITS && exponent >= -22 && exponent <= 22) {
        // Below 2^53 the mantissa is exact and one IEEE operation by an exact power of ten
        // rounds correctly: the very double JSON.parse returns.
        const estimate = exponent < 0 ? mantissa / POW10[-exponent] : mantissa * POW10[exponent];
        value = Math.fround(estimate);
        if (
          mantissa >= EXACT &&
          (value !== Math.fround(estimate * LOW) || value !== Math.fround(estimate * HIGH))
        ) {
          // Not exact and too close to a float32 rounding boundary: read it exactly.
          value = Math.fround(Number(b.toString('latin1', numberStart + (negative ? 1 : 0), i)));
        }
      } else {
        value = Math.fround(Number(b.toString('latin1', numberStart + (negative ? 1 : 0), i)));
      }
      if (negative) value = -value;
      if (used === floats.length) {
        floats = grow(floats);
        this.floats = floats;
      }
      floats[used++] = value;
      while (c === SPACE || c === LF || c === CR || c === TAB) c = b[++i];
      if (c === COMMA) {
        c = b[++i];
        while (c === SPACE || c === LF || c === CR || c === TAB) c = b[++i];
        continue;
      }
      if (c === CLOSE_BRACKET) break;
      throw BAIL;
    }
    this.used = used;
    this.pos = i + 1;
    return start;
  }

  /** An object (given to JSON.parse whole) or null. */
  private payload(): JsonObject | null {
    const b = this.bytes;
    this.skipSpace();
    const start = this.pos;
    if (b[start] === 0x6e /* n */) {
      if (b[start + 1] !== 0x75 || b[start + 2] !== 0x6c || b[start + 3] !== 0x6c) throw BAIL;
      this.pos = start + 4;
      return null;
    }
    if (b[start] !== OPEN_BRACE) throw BAIL;
    // Find the matching brace (strings skipped, escapes included); JSON.parse checks the rest.
    let depth = 0;
    let i = start;
    for (;;) {
      const c = b[i++];
      if (c === undefined) throw BAIL;
      if (c === QUOTE) {
        for (;;) {
          const s = b[i++];
          if (s === undefined) throw BAIL;
          if (s === BACKSLASH) i++;
          else if (s === QUOTE) break;
        }
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (--depth === 0) break;
      }
    }
    this.pos = i;
    return JSON.parse(b.toString('utf8', start, i)) as JsonObject;
  }
}

/** digitsOf's answer when all four bytes are digits: 4 << 16 | value. */
const FULL = 4 << 16;

/**
 * The decimal digits at the start of the 4 bytes at i: (count << 16) | value, or -1 when
 * there is none. Past the end the bytes read as non-digits.
 */
function digitsOf(view: DataView, b: Buffer, i: number, length: number): number {
  let word: number;
  if (i + 4 <= length) word = view.getUint32(i, true);
  else {
    word = 0;
    for (let k = 0; k < 4; k++) word |= (i + k < length ? b[i + k] : SPACE) << (8 * k);
  }
  const low = word & 0x0f0f0f0f;
  // Per byte: a high nibble other than 3, or a low nibble above 9 (adding 6 carries into bit 4).
  const notDigit = ((word & 0xf0f0f0f0) ^ 0x30303030) | ((low + 0x06060606) & 0x10101010);
  let count = 4;
  let part = low;
  if (notDigit !== 0) {
    count = (31 - Math.clz32(notDigit & -notDigit)) >> 3;
    if (count === 0) return -1;
    // The digits moved to the top, as a 4-digit number with leading zeros.
    part = low << (8 * (4 - count));
  }
  part = (Math.imul(part, 10) + (part >>> 8)) & 0x00ff00ff;
  part = (Math.imul(part, 100) + (part >>> 16)) & 0xffff;
  return (count << 16) | part;
}

let shared = new Float32Array(0);

/** The parser's growing float buffer, kept between bodies (only a copy of the used part leaves). */
function scratch(minimum: number): Float32Array {
  if (shared.length < minimum) shared = new Float32Array(minimum);
  return shared;
}

function grow(floats: Float32Array): Float32Array {
  const next = new Float32Array(floats.length * 2);
  next.set(floats);
  shared = next;
  return next;
}

/** Points over one float buffer: point i's vector is `floats[starts[i], starts[i + 1])`. */
export function pointsOf(
  floats: Float32Array,
  starts: ArrayLike<number>,
  ids: readonly PointId[],
  payloads: readonly ParsedPoint['payload'][],
): ParsedPoint[] {
  const points: ParsedPoint[] = new Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const point: ParsedPoint = { id: ids[i], vector: floats.subarray(starts[i], starts[i + 1]) };
    if (payloads[i] !== undefined) point.payload = payloads[i];
    points[i] = point;
  }
  return points;
}
