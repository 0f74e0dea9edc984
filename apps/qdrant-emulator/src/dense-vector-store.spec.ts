import { DenseVectorStore, Distance } from './dense-vector-store';
import { createDotI8Kernel } from './simd-kernel';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** Reference: score every live slot exactly and sort (score, then slot as the id). */
function reference(
  store: DenseVectorStore,
  slots: number[],
  query: Float32Array,
  k: number,
  descending: boolean,
) {
  return slots
    .map((slot) => ({ slot, score: store.exactScore(query, slot) }))
    .sort((a, b) =>
      a.score === b.score ? a.slot - b.slot : descending ? b.score - a.score : a.score - b.score,
    )
    .slice(0, k);
}

function fill(distance: Distance, dim: number, count: number, seed: number) {
  const next = rng(seed);
  const store = new DenseVectorStore(dim, distance);
  const slots: number[] = [];
  for (let i = 0; i < count; i++) {
    const slot = store.allocate();
    store.write(
      slot,
      store.prepare(
        Array.from(
          { length: dim },
          () => (next() * 2 - 1) * (distance === 'Dot' ? 1 + (i % 5) : 1),
        ),
      ),
    );
    slots.push(slot);
  }
  return { store, slots, next };
}

describe('simd kernel', () => {
  it('computes int8 dot products exactly', () => {
    const kernel = createDotI8Kernel();
    expect(kernel).not.toBeNull();
    if (!kernel) return;
    const stride = 48;
    const rows = 7;
    kernel.memory.grow(1);
    const q = new Int16Array(kernel.memory.buffer, 0, stride);
    const base = new Int8Array(kernel.memory.buffer, 256, rows * stride);
    const next = rng(3);
    for (let i = 0; i < stride; i++) q[i] = Math.round(next() * 254 - 127);
    for (let i = 0; i < base.length; i++) base[i] = Math.round(next() * 254 - 127);
    kernel.dotI8(0, 256, stride, rows, 8192);
    const out = new Int32Array(kernel.memory.buffer, 8192, rows);
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (let i = 0; i < stride; i++) sum += q[i] * base[r * stride + i];
      expect(out[r]).toBe(sum);
    }
  });
});

describe('DenseVectorStore', () => {
  it.each([
    ['Cosine', 48, 6000],
    ['Dot', 40, 6000],
    ['Cosine', 384, 5000],
  ] as Array<[Distance, number, number]>)(
    'returns exactly the top k of a full scan through the quantised pre-scan (%s, %i dims)',
    (distance, dim, count) => {
      const { store, slots, next } = fill(distance, dim, count, 11);
      for (let round = 0; round < 5; round++) {
        const query = store.prepare(Array.from({ length: dim }, () => next() * 2 - 1));
        for (const k of [1, 10, 100]) {
          const got = store.search(query, { k, tieBreak: (a, b) => a - b });
          expect(got).toEqual(reference(store, slots, query, k, true));
        }
      }
    },
  );

  it('stays exact for long Dot vectors, where the error bound is large in absolute terms', () => {
    const next = rng(17);
    const store = new DenseVectorStore(24, 'Dot');
    const slots: number[] = [];
    for (let i = 0; i < 6000; i++) {
      const slot = store.allocate();
      store.write(slot, store.prepare(Array.from({ length: 24 }, () => (next() * 2 - 1) * 1000)));
      slots.push(slot);
    }
    const query = store.prepare(Array.from({ length: 24 }, () => (next() * 2 - 1) * 1000));
    expect(store.search(query, { k: 25, tieBreak: (a, b) => a - b })).toEqual(
      reference(store, slots, query, 25, true),
    );
  });

  it('keeps exactness with a filter, an excluded slot and a score threshold', () => {
    const { store, slots, next } = fill('Cosine', 32, 8000, 5);
    const query = store.prepare(Array.from({ length: 32 }, () => next() * 2 - 1));
    const accept = (slot: number) => slot % 3 !== 0;
    const exclude = reference(store, slots, query, 1, true)[0].slot;
    const allowed = slots.filter((s) => accept(s) && s !== exclude);
    const expected = reference(store, allowed, query, 20, true);
    const got = store.search(query, {
      k: 20,
      accept,
      excludeSlot: exclude,
      tieBreak: (a, b) => a - b,
    });
    expect(got).toEqual(expected);
    const threshold = expected[4].score;
    const above = store.search(query, {
      k: 50,
      accept,
      excludeSlot: exclude,
      scoreThreshold: threshold,
      tieBreak: (a, b) => a - b,
    });
    expect(above).toEqual(
      reference(store, allowed, query, 50, true).filter((h) => h.score >= threshold),
    );
  });

  it('leaves out the excluded slot (query by point id) without a filter', () => {
    const { store, slots, next } = fill('Cosine', 32, 6000, 8);
    const query = store.prepare(Array.from({ length: 32 }, () => next() * 2 - 1));
    const best = reference(store, slots, query, 11, true);
    const got = store.search(query, {
      k: 10,
      excludeSlot: best[0].slot,
      tieBreak: (a, b) => a - b,
    });
    expect(got).toEqual(best.slice(1));
  });

  it('orders Euclid and Manhattan ascending', () => {
    for (const distance of ['Euclid', 'Manhattan'] as Distance[]) {
      const { store, slots, next } = fill(distance, 8, 500, 9);
      const query = store.prepare(Array.from({ length: 8 }, () => next()));
      expect(store.search(query, { k: 7, tieBreak: (a, b) => a - b })).toEqual(
        reference(store, slots, query, 7, false),
      );
    }
  });

  it('reuses released slots and never returns them while free', () => {
    const { store, slots, next } = fill('Cosine', 16, 5000, 21);
    const query = store.prepare(Array.from({ length: 16 }, () => next() * 2 - 1));
    const best = store.search(query, { k: 3, tieBreak: (a, b) => a - b });
    store.release(best[0].slot);
    const after = store.search(query, { k: 3, tieBreak: (a, b) => a - b });
    expect(after.map((h) => h.slot)).not.toContain(best[0].slot);
    expect(after[0]).toEqual(best[1]);
    expect(store.size).toBe(slots.length - 1);
    expect(store.allocate()).toBe(best[0].slot);
  });

  it('keeps every vector where it was written while growing across pages', () => {
    const dim = 12;
    const count = 10_000; // more than two pages of slots
    const store = new DenseVectorStore(dim, 'Dot');
    const input = (slot: number) =>
      Float32Array.from({ length: dim }, (_, d) => ((slot * 31 + d * 7) % 101) - 50 + slot / 1e4);
    for (let i = 0; i < count; i++) {
      const slot = store.allocate();
      expect(slot).toBe(i);
      store.write(slot, store.prepare(input(slot)));
    }
    for (const slot of [0, 1, 4095, 4096, 4097, 8191, 8192, count - 1]) {
      expect(store.view(slot)).toEqual(input(slot));
      expect(store.read(slot)).toEqual(Array.from(input(slot)));
    }
    // Each stored vector, as a query, scores itself exactly: the pre-scan reads the same rows.
    for (const slot of [3, 4096, 9999]) {
      const query = input(slot);
      const [hit] = store.search(query, { k: 1, tieBreak: (a, b) => a - b });
      const self = query.reduce((sum, v) => sum + v * v, 0);
      expect(hit.score).toBeGreaterThanOrEqual(Math.fround(self) * (1 - 1e-6));
      expect(store.exactScore(query, slot)).toBeCloseTo(self, 0);
    }
  });

  it('normalises cosine vectors and keeps others as given', () => {
    expect(Array.from(new DenseVectorStore(2, 'Cosine').prepare([3, 4]))).toEqual([
      Math.fround(0.6),
      Math.fround(0.8),
    ]);
    expect(Array.from(new DenseVectorStore(2, 'Dot').prepare([3, 4]))).toEqual([3, 4]);
  });
});
