import { createDotI8Kernel, DotI8Kernel } from './simd-kernel';

export type Distance = 'Cosine' | 'Dot' | 'Euclid' | 'Manhattan';

export interface ScoredSlot {
  slot: number;
  score: number;
}

export interface SearchOptions {
  /** Number of results wanted (limit + offset). */
  k: number;
  /** Slots a filter lets through; evaluated once per live slot (or per candidate slot). */
  accept?: (slot: number) => boolean;
  /** A superset of the eligible slots (from payload indexes); only these are considered. */
  candidateSlots?: number[];
  /** Lower bound for Cosine/Dot, upper bound for Euclid/Manhattan. */
  scoreThreshold?: number;
  excludeSlot?: number;
  /** Orders equal scores (by point id), so results are deterministic. */
  tieBreak: (a: number, b: number) => number;
}

/** Below this many eligible points an exact scan is cheaper than the quantised pre-scan. */
const EXACT_SCAN_LIMIT = 4096;
const PAGE = 65536;
/** Float vectors live in pages of this many slots, so growing never copies them. */
const SLOT_SHIFT = 12;
const SLOTS_PER_PAGE = 1 << SLOT_SHIFT;
const SLOT_MASK = SLOTS_PER_PAGE - 1;

/**
 * Dense vectors of one name in one collection, in Float32Array pages (exact scores)
 * plus, for Cosine and Dot, an int8 copy in WebAssembly memory. A search pre-scans the int8
 * copy with a SIMD kernel, bounds each approximation's error (|q·v − q̃·ṽ| ≤ ‖q−q̃‖‖v‖ +
 * ‖q̃‖‖v−ṽ‖) and re-scores exactly every point whose upper bound reaches the k-th best lower
 * bound, so the top k is exactly the top k of a full float32 scan.
 */
export class DenseVectorStore {
  readonly dim: number;
  readonly distance: Distance;
  private capacity = 0;
  private used = 0;
  /** Page p holds slots p·4096 … p·4096+4095; the first one grows up to that size. */
  private pages: Float32Array[] = [];
  private live = new Uint8Array(0);
  private readonly free: number[] = [];
  private count = 0;

  private readonly kernel: DotI8Kernel | null;
  private readonly stride: number;
  private readonly queryPtr = 0;
  private outPtr = 0;
  private basePtr = 0;
  // Kept in float64 so the error bound is not itself rounded (Dot vectors can be long).
  private scales = new Float64Array(0);
  private errNorms = new Float64Array(0);
  private norms = new Float64Array(0);
  /** View over the kernel's memory; replaced whenever the memory grows. */
  private int8 = new Int8Array(0);
  private approx = new Float64Array(0);
  private bound = new Float64Array(0);

  constructor(dim: number, distance: Distance) {
    this.dim = dim;
    this.distance = distance;
    this.stride = Math.ceil(dim / 16) * 16;
    this.kernel = distance === 'Cosine' || distance === 'Dot' ? createDotI8Kernel() : null;
    // Kernel memory: [int16 query][int8 rows, fixed place][int32 scores, after the rows].
    if (this.kernel) this.basePtr = Math.ceil((this.stride * 2) / 64) * 64;
  }

  get size(): number {
    return this.count;
  }

  /** Cosine vectors are stored normalised, as Qdrant does. */
  prepare(values: ArrayLike<number>, reuse = false): Float32Array {
    // `reuse`: the caller hands over a Float32Array it no longer needs (parsed off-thread).
    const out =
      reuse && values instanceof Float32Array
        ? values
        : Float32Array.from(values as ArrayLike<number>);
    if (this.distance === 'Cosine') {
      let sum = 0;
      for (let i = 0; i < out.length; i++) sum += out[i] * out[i];
      const norm = Math.sqrt(sum);
      if (norm > 0) for (let i = 0; i < out.length; i++) out[i] = out[i] / norm;
    }
    return out;
  }

  allocate(): number {
    this.count++;
    if (this.free.length > 0) {
      const slot = this.free.pop() as number;
      this.live[slot] = 1;
      return slot;
    }
    if (this.used === this.capacity) this.grow(Math.max(1024, this.capacity * 2));
    const slot = this.used++;
    this.live[slot] = 1;
    return slot;
  }

  release(slot: number): void {
    if (!this.live[slot]) return;
    this.live[slot] = 0;
    this.count--;
    this.free.push(slot);
  }

  /** Writes an already prepared vector into a slot. */
  write(slot: number, vector: Float32Array): void {
    const dim = this.dim;
    this.pages[slot >> SLOT_SHIFT].set(vector, (slot & SLOT_MASK) * dim);
    if (!this.kernel) return;
    // Written without branches on the sign of each component: with random signs a
    // mispredicted branch per component costs more than all the arithmetic.
    let maxAbs = 0;
    let sumSq = 0;
    for (let i = 0; i < dim; i++) {
      const v = vector[i];
      sumSq += v * v;
      const a = Math.abs(v);
      maxAbs = a > maxAbs ? a : maxAbs;
    }
    const scale = maxAbs / 127;
    const inverse = scale > 0 ? 1 / scale : 0;
    const row = this.int8;
    const offset = this.basePtr + slot * this.stride;
    let errSq = 0;
    for (let i = 0; i < dim; i++) {
      const v = vector[i];
      const x = v * inverse;
      // Rounded half away from zero: trunc(x) plus trunc(2 × the fraction), which is ±1
      // exactly when the fraction reaches ±0.5.
      const t = Math.trunc(x);
      const q = t + Math.trunc((x - t) * 2);
      row[offset + i] = q;
      const e = v - q * scale;
      errSq += e * e;
    }
    row.fill(0, offset + dim, offset + this.stride);
    this.scales[slot] = scale;
    this.errNorms[slot] = Math.sqrt(errSq);
    this.norms[slot] = Math.sqrt(sumSq);
  }

  read(slot: number): number[] {
    return Array.from(this.view(slot));
  }

  view(slot: number): Float32Array {
    const base = (slot & SLOT_MASK) * this.dim;
    return this.pages[slot >> SLOT_SHIFT].subarray(base, base + this.dim);
  }

  private grow(capacity: number): void {
    // Only the first page is ever copied (while it is smaller than a page); new memory costs a
    // page fault per 4 KiB on first touch, and a copy of every vector at each doubling would
    // touch it all again.
    const first = Math.min(capacity, SLOTS_PER_PAGE) * this.dim;
    if (this.pages.length === 0 || this.pages[0].length < first) {
      const page = new Float32Array(first);
      if (this.pages.length > 0) page.set(this.pages[0]);
      this.pages[0] = page;
    }
    while (this.pages.length * SLOTS_PER_PAGE < capacity) {
      this.pages.push(new Float32Array(SLOTS_PER_PAGE * this.dim));
    }
    const live = new Uint8Array(capacity);
    live.set(this.live);
    this.live = live;
    if (this.kernel) {
      const grown = (arr: Float64Array) => {
        const next = new Float64Array(capacity);
        next.set(arr);
        return next;
      };
      this.scales = grown(this.scales);
      this.errNorms = grown(this.errNorms);
      this.norms = grown(this.norms);
      const memory = this.kernel.memory;
      // The rows stay where they are; the scores (scratch) move past the grown rows.
      this.outPtr = Math.ceil((this.basePtr + capacity * this.stride) / 64) * 64;
      const needed = this.outPtr + capacity * 4;
      if (needed > memory.buffer.byteLength) {
        memory.grow(Math.ceil((needed - memory.buffer.byteLength) / PAGE));
      }
      this.int8 = new Int8Array(memory.buffer);
    }
    this.capacity = capacity;
  }

  exactScore(query: Float32Array, slot: number): number {
    const v = this.pages[slot >> SLOT_SHIFT];
    const dim = this.dim;
    const base = (slot & SLOT_MASK) * dim;
    let sum = 0;
    switch (this.distance) {
      case 'Cosine':
      case 'Dot':
        for (let i = 0; i < dim; i++) sum += query[i] * v[base + i];
        return Math.fround(sum);
      case 'Euclid':
        for (let i = 0; i < dim; i++) {
          const d = query[i] - v[base + i];
          sum += d * d;
        }
        return Math.fround(Math.sqrt(sum));
      case 'Manhattan':
        for (let i = 0; i < dim; i++) sum += Math.abs(query[i] - v[base + i]);
        return Math.fround(sum);
    }
  }

  private get descending(): boolean {
    return this.distance === 'Cosine' || this.distance === 'Dot';
  }

  private passes(score: number, threshold: number | undefined): boolean {
    if (threshold === undefined) return true;
    return this.descending ? score >= threshold : score <= threshold;
  }

  private finish(found: ScoredSlot[], options: SearchOptions): ScoredSlot[] {
    const sign = this.descending ? -1 : 1;
    found.sort((a, b) =>
      a.score === b.score ? options.tieBreak(a.slot, b.slot) : sign * (a.score - b.score),
    );
    if (found.length > options.k) found.length = options.k;
    return found;
  }

  search(query: Float32Array, options: SearchOptions): ScoredSlot[] {
    if (options.k <= 0 || this.count === 0) return [];
    const exclude = options.excludeSlot ?? -1;
    let eligible: Uint8Array;
    let eligibleCount: number;
    if (options.candidateSlots) {
      eligible = new Uint8Array(this.used);
      eligibleCount = 0;
      for (const slot of options.candidateSlots) {
        if (!this.live[slot] || slot === exclude || eligible[slot]) continue;
        if (options.accept && !options.accept(slot)) continue;
        eligible[slot] = 1;
        eligibleCount++;
      }
    } else if (options.accept) {
      eligible = new Uint8Array(this.used);
      eligibleCount = 0;
      for (let slot = 0; slot < this.used; slot++) {
        if (!this.live[slot] || slot === exclude || !options.accept(slot)) continue;
        eligible[slot] = 1;
        eligibleCount++;
      }
    } else {
      // Without a filter every live slot is eligible; the excluded one is skipped in the scans.
      eligible = this.live;
      eligibleCount = this.count - (exclude >= 0 && this.live[exclude] ? 1 : 0);
    }
    if (!this.kernel || eligibleCount <= Math.max(EXACT_SCAN_LIMIT, options.k * 4)) {
      const found: ScoredSlot[] = [];
      for (let slot = 0; slot < this.used; slot++) {
        if (!eligible[slot] || slot === exclude) continue;
        const score = this.exactScore(query, slot);
        if (this.passes(score, options.scoreThreshold)) found.push({ slot, score });
      }
      return this.finish(found, options);
    }
    return this.quantisedSearch(query, options, eligible, exclude);
  }

  private quantisedSearch(
    query: Float32Array,
    options: SearchOptions,
    eligible: Uint8Array,
    exclude: number,
  ): ScoredSlot[] {
    const kernel = this.kernel as DotI8Kernel;
    const dim = this.dim;
    let maxAbs = 0;
    for (let i = 0; i < dim; i++) maxAbs = Math.max(maxAbs, Math.abs(query[i]));
    const qScale = maxAbs / 127;
    const q16 = new Int16Array(kernel.memory.buffer, this.queryPtr, this.stride);
    let qErrSq = 0;
    let qtSq = 0;
    for (let i = 0; i < dim; i++) {
      const q = qScale > 0 ? Math.round(query[i] / qScale) : 0;
      q16[i] = q;
      const approx = q * qScale;
      qErrSq += (query[i] - approx) ** 2;
      qtSq += approx * approx;
    }
    for (let i = dim; i < this.stride; i++) q16[i] = 0;
    const qErr = Math.sqrt(qErrSq);
    const qtNorm = Math.sqrt(qtSq);
    const n = this.used;
    kernel.dotI8(this.queryPtr, this.basePtr, this.stride, n, this.outPtr);
    const dots = new Int32Array(kernel.memory.buffer, this.outPtr, n);

    // Pass 1: the k-th largest lower bound, with a min-heap of size k.
    const k = options.k;
    const heap = new Float64Array(k);
    let heapSize = 0;
    if (this.approx.length < n) {
      this.approx = new Float64Array(this.capacity);
      this.bound = new Float64Array(this.capacity);
    }
    // Scratch space reused across searches; only eligible slots are written and then read.
    const approx = this.approx;
    const bound = this.bound;
    const scales = this.scales;
    const norms = this.norms;
    const errNorms = this.errNorms;
    for (let slot = 0; slot < n; slot++) {
      if (!eligible[slot] || slot === exclude) continue;
      const a = qScale * scales[slot] * dots[slot];
      // Plus a margin for the float32 rounding of the exact score itself.
      const b = qErr * norms[slot] + qtNorm * errNorms[slot] + 1e-6 * (qtNorm * norms[slot] + 1);
      approx[slot] = a;
      bound[slot] = b;
      const lower = a - b;
      if (heapSize < k) {
        let i = heapSize++;
        heap[i] = lower;
        while (i > 0) {
          const parent = (i - 1) >> 1;
          if (heap[parent] <= heap[i]) break;
          const t = heap[parent];
          heap[parent] = heap[i];
          heap[i] = t;
          i = parent;
        }
      } else if (lower > heap[0]) {
        heap[0] = lower;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < k && heap[l] < heap[m]) m = l;
          if (r < k && heap[r] < heap[m]) m = r;
          if (m === i) break;
          const t = heap[m];
          heap[m] = heap[i];
          heap[i] = t;
          i = m;
        }
      }
    }
    let cutoff = heapSize < k ? -Infinity : heap[0];
    if (options.scoreThreshold !== undefined)
      cutoff = Math.max(cutoff, options.scoreThreshold - 1e-5);

    // Pass 2: exact re-scoring of every point that could still be in the top k.
    const found: ScoredSlot[] = [];
    for (let slot = 0; slot < n; slot++) {
      if (!eligible[slot] || slot === exclude || approx[slot] + bound[slot] < cutoff) continue;
      const score = this.exactScore(query, slot);
      if (this.passes(score, options.scoreThreshold)) found.push({ slot, score });
    }
    return this.finish(found, options);
  }

  /** Live slots, for persistence. */
  *slots(): Generator<number> {
    for (let slot = 0; slot < this.used; slot++) if (this.live[slot]) yield slot;
  }
}
