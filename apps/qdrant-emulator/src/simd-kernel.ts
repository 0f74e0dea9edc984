/**
 * A tiny WebAssembly SIMD kernel for the int8 pre-scan. The module is assembled here
 * from its opcodes so the emulator needs no build-time toolchain; the equivalent text
 * form is:
 *
 *   (func $dot_i8 (param $q i32) (param $base i32) (param $stride i32) (param $n i32) (param $out i32)
 *     ;; for each of the n rows: out[i] = sum_j q16[j] * i8row[j], via i32x4.dot_i16x8_s
 *   )
 *
 * `q` points at the query already widened to int16 (2 * stride bytes), `base` at n rows of
 * `stride` int8 values (stride is a multiple of 16), `out` at n int32 results.
 */

const SIMD = 0xfd;

function uleb(value: number): number[] {
  const bytes: number[] = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (v !== 0);
  return bytes;
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function simd(op: number, ...imm: number[]): number[] {
  return [SIMD, ...uleb(op), ...imm];
}

const I32 = 0x7f;
const V128 = 0x7b;
const op = {
  block: 0x02,
  loop: 0x03,
  br: 0x0c,
  brIf: 0x0d,
  end: 0x0b,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Const: 0x41,
  i32Eqz: 0x45,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Mul: 0x6c,
  i32Store: 0x36,
};
const simdOp = {
  load: 0x00,
  const: 0x0c,
  extendLowS: 0x87,
  extendHighS: 0x88,
  i32x4Add: 0xae,
  dotI16: 0xba,
  extractLane: 0x1b,
};

function buildDotI8Body(): number[] {
  // params: 0 q, 1 base, 2 stride, 3 n, 4 out; locals: 5 i, 6 j, 7 row, 8 acc (v128), 9 v (v128)
  const [Q, BASE, STRIDE, N, OUT, I, J, ROW, ACC, V] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const get = (l: number) => [op.localGet, l];
  const set = (l: number) => [op.localSet, l];
  const zeroV128 = simd(simdOp.const, ...new Array<number>(16).fill(0));
  const memarg = [0x04, 0x00]; // align 2^4, offset 0
  const body: number[] = [
    // locals: 3 x i32, 2 x v128
    0x02,
    0x03,
    I32,
    0x02,
    V128,
    op.block,
    0x40,
    ...get(N),
    op.i32Eqz,
    op.brIf,
    0,
    op.i32Const,
    0,
    ...set(I),
    ...get(BASE),
    ...set(ROW),
    op.loop,
    0x40,
    ...zeroV128,
    ...set(ACC),
    op.i32Const,
    0,
    ...set(J),
    op.loop,
    0x40,
    // v = load(row + j)
    ...get(ROW),
    ...get(J),
    op.i32Add,
    ...simd(simdOp.load, ...memarg),
    op.localSet,
    V,
    // acc += dot(extend_low(v), load(q + 2j))
    ...get(ACC),
    ...get(V),
    ...simd(simdOp.extendLowS),
    ...get(Q),
    ...get(J),
    ...get(J),
    op.i32Add,
    op.i32Add,
    ...simd(simdOp.load, ...memarg),
    ...simd(simdOp.dotI16),
    ...simd(simdOp.i32x4Add),
    // acc += dot(extend_high(v), load(q + 2j + 16))
    ...get(V),
    ...simd(simdOp.extendHighS),
    ...get(Q),
    ...get(J),
    ...get(J),
    op.i32Add,
    op.i32Add,
    op.i32Const,
    16,
    op.i32Add,
    ...simd(simdOp.load, ...memarg),
    ...simd(simdOp.dotI16),
    ...simd(simdOp.i32x4Add),
    ...set(ACC),
    // j += 16; loop while j < stride
    ...get(J),
    op.i32Const,
    16,
    op.i32Add,
    op.localTee,
    J,
    ...get(STRIDE),
    op.i32GeU,
    op.i32Eqz,
    op.brIf,
    0,
    op.end,
    // out[i] = lane0 + lane1 + lane2 + lane3
    ...get(OUT),
    ...get(I),
    op.i32Const,
    4,
    op.i32Mul,
    op.i32Add,
    ...get(ACC),
    ...simd(simdOp.extractLane, 0),
    ...get(ACC),
    ...simd(simdOp.extractLane, 1),
    op.i32Add,
    ...get(ACC),
    ...simd(simdOp.extractLane, 2),
    op.i32Add,
    ...get(ACC),
    ...simd(simdOp.extractLane, 3),
    op.i32Add,
    op.i32Store,
    0x02,
    0x00,
    // row += stride; i += 1; loop while i < n
    ...get(ROW),
    ...get(STRIDE),
    op.i32Add,
    ...set(ROW),
    ...get(I),
    op.i32Const,
    1,
    op.i32Add,
    op.localTee,
    I,
    ...get(N),
    op.i32GeU,
    op.i32Eqz,
    op.brIf,
    0,
    op.end,
    op.end,
    op.end,
  ];
  return body;
}

function buildModule(): Uint8Array {
  const magic = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const typeSec = section(1, [1, 0x60, 5, I32, I32, I32, I32, I32, 0]);
  const funcSec = section(3, [1, 0]);
  const memSec = section(5, [1, 0x00, 1]); // one memory, min 1 page, no max
  const name = (s: string) => [...uleb(s.length), ...Buffer.from(s, 'utf8')];
  const exportSec = section(7, [2, ...name('dot_i8'), 0x00, 0, ...name('memory'), 0x02, 0]);
  const body = buildDotI8Body();
  const codeSec = section(10, [1, ...uleb(body.length), ...body]);
  return Uint8Array.from([...magic, ...typeSec, ...funcSec, ...memSec, ...exportSec, ...codeSec]);
}

/** The slice of the WebAssembly API used here (the project's TypeScript lib has no DOM types). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

export interface DotI8Kernel {
  readonly memory: WasmMemory;
  dotI8(queryPtr: number, basePtr: number, stride: number, rows: number, outPtr: number): void;
}

let compiled: object | null | undefined;

/** Returns null when the runtime has no WebAssembly SIMD; callers then scan in plain JS. */
export function createDotI8Kernel(): DotI8Kernel | null {
  if (!wasm) return null;
  if (compiled === undefined) {
    const bytes = buildModule();
    compiled = wasm.validate(bytes) ? new wasm.Module(bytes) : null;
  }
  if (compiled === null) return null;
  const instance = new wasm.Instance(compiled, {});
  const exports = instance.exports as {
    memory: WasmMemory;
    dot_i8: (q: number, b: number, s: number, n: number, o: number) => void;
  };
  return { memory: exports.memory, dotI8: exports.dot_i8 };
}
