import type { EmbedOptions, Embedder } from './embedder';
import { DEFAULT_EMBEDDING_DIM } from './embedder';
import { embeddingProfile, type EmbeddingProfile, type FusionWeights } from './embedding-profile';

export interface HashingEmbedderOptions {
  dimension?: number;
  model?: string;
  fusion?: Partial<FusionWeights>;
}

export const HASHING_MODEL = 'hashing-v1';

// Unicode words: letters, marks and digits of any script, so Hangul and accents count.
const WORD = /[\p{L}\p{M}\p{N}]+/gu;
const WIDE_SCRIPT = /[\p{Script=Hangul}\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;

// Whole words carry more meaning than their fragments; the n-grams are what lets
// inflected forms meet (데비안은 / 데비안을, index / indexing).
const WORD_WEIGHT = 1;
const NGRAM_WEIGHT = 0.5;
const SEED_WORD = 0x9e3779b1;
const SEED_NGRAM = 0x85ebca77;

/**
 * Feature hashing ("the hashing trick"): lower-cased words and character n-grams, each
 * hashed with a seeded FNV-1a + murmur3 finaliser into `dimension` buckets with a
 * hash-derived sign, weighted by sublinear term frequency (1 + ln tf) and L2-normalised.
 * Lexical, not semantic, but deterministic, offline and language-independent.
 *
 * N-grams: 3-grams of each word padded with `<` `>`; for Hangul and CJK words, whose
 * syllables each carry a lot, also 2-grams, and a Korean word ending in a particle also
 * counts as its stem. Changing any of this changes every vector, so it needs a new
 * model name and a reindex.
 */
export class HashingEmbedder implements Embedder {
  readonly model: string;
  readonly dimension: number;
  readonly profile: EmbeddingProfile;
  // Reused between calls (embedOne is synchronous, so never shared by two at once).
  private readonly words = new FeatureCounts();
  private readonly grams = new FeatureCounts();

  constructor(options: HashingEmbedderOptions = {}) {
    this.dimension = options.dimension ?? DEFAULT_EMBEDDING_DIM;
    this.model = options.model ?? HASHING_MODEL;
    if (!Number.isInteger(this.dimension) || this.dimension < 8) {
      throw new RangeError(
        `The hashing embedder needs an integer dimension ≥ 8 (got ${this.dimension})`,
      );
    }
    this.profile = embeddingProfile({
      provider: 'hashing',
      model: this.model,
      dimension: this.dimension,
      fusion: options.fusion,
    });
  }

  async embed(texts: string[], opts: EmbedOptions = {}): Promise<Float32Array[]> {
    opts.signal?.throwIfAborted();
    return texts.map((t) => this.embedOne(t));
  }

  embedOne(text: string): Float32Array {
    // Raw term frequencies per feature kind, so the weight scales (1 + ln tf) as a whole.
    const words = this.words.reset();
    const grams = this.grams.reset();
    const lower = text.normalize('NFC').toLowerCase();
    for (const m of lower.matchAll(WORD)) {
      const word = m[0];
      words.add(hashString(word, SEED_WORD));
      addNgrams(`<${word}>`, 3, grams);
      if (WIDE_SCRIPT.test(word)) {
        addNgrams(word, 2, grams);
        const stem = stripKoreanParticle(word);
        if (stem) words.add(hashString(stem, SEED_WORD));
      }
    }
    const vector = new Float32Array(this.dimension);
    this.accumulate(vector, words, WORD_WEIGHT);
    this.accumulate(vector, grams, NGRAM_WEIGHT);
    let norm = 0;
    for (let i = 0; i < vector.length; i++) norm += vector[i] * vector[i];
    if (norm === 0) {
      // Cosine distance needs a non-zero vector; text without words gets a fixed one.
      vector[0] = 1;
      return vector;
    }
    const inv = 1 / Math.sqrt(norm);
    for (let i = 0; i < vector.length; i++) vector[i] *= inv;
    return vector;
  }

  private accumulate(vector: Float32Array, counts: FeatureCounts, weight: number): void {
    for (let k = 0; k < counts.size; k++) {
      const slot = counts.slots[k];
      const hash = counts.keys[slot];
      const bucket = (hash >>> 1) % this.dimension;
      const sign = hash & 1 ? -1 : 1;
      vector[bucket] += sign * weight * (1 + Math.log(counts.counts[slot]));
    }
  }
}

// Common Korean particles, longest first. A word that ends in one also counts as its
// stem, so 데비안은, 데비안을 and 데비안 share a whole-word feature.
const PARTICLES = [
  '으로부터',
  '에서부터',
  '에게서',
  '이라는',
  '에서',
  '에게',
  '한테',
  '으로',
  '까지',
  '부터',
  '처럼',
  '보다',
  '라는',
  '은',
  '는',
  '이',
  '가',
  '을',
  '를',
  '의',
  '에',
  '와',
  '과',
  '도',
  '로',
  '만',
];
const HANGUL_WORD = /^[\uac00-\ud7a3]+$/;

function stripKoreanParticle(word: string): string | undefined {
  if (!HANGUL_WORD.test(word)) return undefined;
  for (const p of PARTICLES) {
    if (word.length - p.length >= 2 && word.endsWith(p)) return word.slice(0, -p.length);
  }
  return undefined;
}

/**
 * Character n-grams by code point, so an astral character is never cut in half. Hashes
 * each gram in place (same result as hashing the substring) to avoid an allocation per
 * gram: this loop is most of the embedder's time.
 */
function addNgrams(word: string, n: number, into: FeatureCounts): void {
  const starts = codePointStarts(word);
  const cps = starts.length - 1;
  for (let i = 0; i + n <= cps; i++) {
    into.add(hashRange(word, starts[i], starts[i + n], SEED_NGRAM ^ n));
  }
}

/**
 * Open-addressing counter keyed by 32-bit feature hash: several times faster than a
 * Map<number, number> here and allocation-free once warm.
 */
class FeatureCounts {
  keys = new Uint32Array(4096);
  counts = new Uint32Array(4096);
  slots = new Int32Array(4096);
  size = 0;

  reset(): this {
    for (let k = 0; k < this.size; k++) this.counts[this.slots[k]] = 0;
    this.size = 0;
    return this;
  }

  add(hash: number): void {
    const mask = this.keys.length - 1;
    let i = hash & mask;
    while (this.counts[i] !== 0 && this.keys[i] !== hash) i = (i + 1) & mask;
    if (this.counts[i] === 0) {
      this.keys[i] = hash;
      this.slots[this.size++] = i;
      if (this.size * 2 > this.keys.length) {
        this.counts[i] = 1;
        this.grow();
        return;
      }
    }
    this.counts[i]++;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldCounts = this.counts;
    const oldSlots = this.slots;
    const oldSize = this.size;
    this.keys = new Uint32Array(oldKeys.length * 2);
    this.counts = new Uint32Array(oldKeys.length * 2);
    this.slots = new Int32Array(oldKeys.length * 2);
    this.size = 0;
    const mask = this.keys.length - 1;
    for (let k = 0; k < oldSize; k++) {
      const slot = oldSlots[k];
      let i = oldKeys[slot] & mask;
      while (this.counts[i] !== 0) i = (i + 1) & mask;
      this.keys[i] = oldKeys[slot];
      this.counts[i] = oldCounts[slot];
      this.slots[this.size++] = i;
    }
  }
}

/** Offsets where each code point starts, plus the string length at the end. */
function codePointStarts(s: string): number[] {
  const starts: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff && i > 0) {
      const prev = s.charCodeAt(i - 1);
      if (prev >= 0xd800 && prev <= 0xdbff) continue;
    }
    starts.push(i);
  }
  starts.push(s.length);
  return starts;
}

/** FNV-1a over UTF-16 code units, then murmur3's fmix32 to spread the bits. */
export function hashString(s: string, seed: number): number {
  return hashRange(s, 0, s.length, seed);
}

function hashRange(s: string, start: number, end: number, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = start; i < end; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
