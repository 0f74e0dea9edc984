import { readdirSync } from 'node:fs';
import { Chunker, DocumentExtractor, HashingEmbedder } from '@quarry/pipeline';
import { fixture, FIXTURES_DIR } from './fixtures';

// Each query, in the language of its document, with the document it is about. Hashing is
// lexical and 384 buckets collide, so a stray chunk can outrank the right one now and then:
// the bar is the right document in the top 3 documents for every query and MRR ≥ 0.9.
const QUERIES: [string, string][] = [
  ['volcano ash cloud flights cancelled', 'sample-en.pdf'],
  ['geothermal power heats homes', 'sample-en.pdf'],
  ['sourdough starter wild yeast', 'sample-en.docx'],
  ['honeybee queen drones waggle dance', 'sample-en.html'],
  ['rust borrow checker mutable reference', 'sample-en.md'],
  ['penny-farthing bicycle history', 'sample-en.txt'],
  ['한라산 화산섬 오름', 'sample-ko.pdf'],
  ['해녀 물질 숨비소리', 'sample-ko.pdf'],
  ['김치 양념 만들기', 'sample-ko.docx'],
  ['데비안 패키지 관리', 'sample-ko.html'],
  ['세종대왕 한글 창제', 'sample-ko.md'],
  ['서울 지하철 개통', 'sample-ko.txt'],
  ['목성 토성 행성', 'sample-ko-utf16le.txt'],
  ['녹차 산지 보성', 'sample-ko-euckr.txt'],
];

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

describe('hashing retrieval over the sample documents', () => {
  const extractor = new DocumentExtractor();
  afterAll(() => extractor.close());

  it('finds the right document for Korean and English queries', async () => {
    const chunker = new Chunker({ chunkSize: 1000, chunkOverlap: 150 });
    const embedder = new HashingEmbedder();
    const index: { doc: string; vector: Float32Array }[] = [];
    const names = readdirSync(FIXTURES_DIR).filter((n) => n.startsWith('sample-'));
    expect(names).toHaveLength(12);
    for (const name of names) {
      const doc = await extractor.extract(fixture(name), { filename: name });
      const chunks = chunker.chunkDocument(doc);
      const vectors = await embedder.embed(chunks.map((c) => c.text));
      vectors.forEach((vector) => index.push({ doc: name, vector }));
    }
    const misses: string[] = [];
    let reciprocalRanks = 0;
    for (const [query, expected] of QUERIES) {
      const [q] = await embedder.embed([query]);
      const ranked = [...index].sort((a, b) => dot(q, b.vector) - dot(q, a.vector));
      const docs = [...new Set(ranked.map((r) => r.doc))];
      const rank = docs.indexOf(expected) + 1;
      reciprocalRanks += 1 / rank;
      if (rank > 3) misses.push(`${query} → ${docs.slice(0, 3).join(', ')} (expected ${expected})`);
    }
    expect(misses).toEqual([]);
    expect(reciprocalRanks / QUERIES.length).toBeGreaterThanOrEqual(0.9);
  });
});
