import { createEmbedder } from './embedder-factory';
import { HASHING_MODEL, HashingEmbedder } from './hashing-embedder';
import { OpenAiEmbedder } from './openai-embedder';

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i] * b[i];
  return dot;
}

function norm(a: ArrayLike<number>): number {
  return Math.sqrt(cosine(a, a));
}

describe('HashingEmbedder', () => {
  const embedder = new HashingEmbedder();

  it('defaults to 384 dimensions under the model name hashing-v1', () => {
    expect(embedder.dimension).toBe(384);
    expect(embedder.model).toBe(HASHING_MODEL);
    expect(HASHING_MODEL).toBe('hashing-v1');
  });

  it('is deterministic across calls and instances', async () => {
    const text = 'Deterministic vectors: 데비안 패키지 관리';
    const [a] = await embedder.embed([text]);
    const [b] = await new HashingEmbedder().embed([text]);
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('returns L2-normalised vectors of the configured dimension', async () => {
    const small = new HashingEmbedder({ dimension: 64 });
    const vectors = await small.embed(['hello world', '한국어 문장입니다', 'x', '!!! ...', '']);
    expect(vectors).toHaveLength(5);
    for (const v of vectors) {
      expect(v).toHaveLength(64);
      expect(norm(v)).toBeCloseTo(1, 5);
    }
  });

  it('ignores case and Unicode normalisation form', async () => {
    const [a, b] = await embedder.embed([
      'Debian Linux 한국어',
      'DEBIAN linux ' + '한국어'.normalize('NFD'),
    ]);
    expect(cosine(a, b)).toBeCloseTo(1, 5);
  });

  it('makes Korean words with different particles similar', async () => {
    const [eun, eul, unrelated] = await embedder.embed(['데비안은', '데비안을', '김치를']);
    expect(cosine(eun, eul)).toBeGreaterThan(0.5);
    expect(cosine(eun, unrelated)).toBeLessThan(0.2);
  });

  it('makes inflected English words similar', async () => {
    const [a, b, c] = await embedder.embed([
      'indexing documents',
      'indexed document',
      'sourdough bread',
    ]);
    expect(cosine(a, b)).toBeGreaterThan(0.35);
    expect(cosine(a, c)).toBeLessThan(0.2);
  });

  it('places a query nearest to the passage on its topic', async () => {
    const passages = [
      'Iceland sits on the Mid-Atlantic Ridge; its volcanoes erupt every few years and the ash cloud of 2010 closed European airspace.',
      'A sourdough starter is flour and water with wild yeast; bake the loaf in a Dutch oven.',
      '데비안은 자유 소프트웨어 운영체제 배포판이며 APT로 패키지를 관리한다.',
      '배추를 소금에 절이고 고춧가루 양념을 발라 김치를 담근다.',
    ];
    const queries: [string, number][] = [
      ['volcano eruption ash over Europe', 0],
      ['how to bake sourdough bread', 1],
      ['데비안을 설치하고 패키지 관리', 2],
      ['김치 양념 만드는 법', 3],
    ];
    const pv = await embedder.embed(passages);
    const qv = await embedder.embed(queries.map(([q]) => q));
    queries.forEach(([, expected], qi) => {
      const scores = pv.map((p) => cosine(qv[qi], p));
      const best = scores.indexOf(Math.max(...scores));
      expect(best).toBe(expected);
    });
    // Different topics are far apart.
    expect(cosine(pv[0], pv[1])).toBeLessThan(0.25);
    expect(cosine(pv[2], pv[3])).toBeLessThan(0.25);
  });

  it('is a bag of features: word order does not matter, even for thousands of features', async () => {
    const words = Array.from(
      { length: 4000 },
      (_, i) => `w${i.toString(36)}x${(i * 7919).toString(36)} 단어${i}를`,
    );
    const shuffled = [...words].reverse();
    const warm = new HashingEmbedder();
    await warm.embed(['warm up the reused tables first']);
    const [a] = await warm.embed([words.join(' ')]);
    const [b] = await new HashingEmbedder().embed([shuffled.join(' ')]);
    expect(cosine(a, b)).toBeCloseTo(1, 5);
    const [c] = await warm.embed(['short text after a long one']);
    const [d] = await new HashingEmbedder().embed(['short text after a long one']);
    expect(Array.from(c)).toEqual(Array.from(d));
  });

  it('gives text without words a fixed unit vector rather than zeros', async () => {
    const [a, b] = await embedder.embed(['', '... !!!']);
    expect(norm(a)).toBeCloseTo(1, 6);
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('rejects a dimension it cannot use', () => {
    expect(() => new HashingEmbedder({ dimension: 0 })).toThrow(/dimension/);
    expect(() => new HashingEmbedder({ dimension: 12.5 })).toThrow(/dimension/);
  });
});

describe('createEmbedder', () => {
  it('builds the hashing embedder by default', () => {
    const e = createEmbedder({ dimension: 128 });
    expect(e).toBeInstanceOf(HashingEmbedder);
    expect(e.dimension).toBe(128);
    expect(e.model).toBe('hashing-v1');
  });

  it('builds the OpenAI-compatible embedder', () => {
    const e = createEmbedder({
      provider: 'openai',
      model: 'text-embedding-3-small',
      dimension: 1536,
      baseUrl: 'http://localhost:11434/v1/',
    });
    expect(e).toBeInstanceOf(OpenAiEmbedder);
    expect((e as OpenAiEmbedder).url).toBe('http://localhost:11434/v1/embeddings');
    expect(e.dimension).toBe(1536);
  });

  it('names the missing setting for openai', () => {
    expect(() => createEmbedder({ provider: 'openai', model: 'm' })).toThrow(/EMBEDDING_BASE_URL/);
    expect(() => createEmbedder({ provider: 'openai', baseUrl: 'http://x' })).toThrow(
      /EMBEDDING_MODEL/,
    );
    expect(() => createEmbedder({ provider: 'nope' as 'hashing' })).toThrow(/EMBEDDING_PROVIDER/);
  });
});
