import { fixture } from '../../test/fixtures';
import { DocumentExtractor } from '../extraction/document-extractor';
import type { ExtractedDocument } from '../extraction/extracted-document';
import { Chunk, Chunker, DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_SIZE } from './chunker';
import { isSafeBoundary } from './text-boundaries';

/** The invariants every chunking must hold, whatever the input. */
function expectInvariants(text: string, chunks: Chunk[], size: number, overlap: number): void {
  let covered = 0;
  chunks.forEach((c, i) => {
    expect(c.ordinal).toBe(i);
    expect(text.slice(c.charStart, c.charEnd)).toBe(c.text);
    expect(c.text.length).toBeGreaterThan(0);
    expect(c.text.length).toBeLessThanOrEqual(size);
    expect(c.text).toBe(c.text.trim());
    expect(isSafeBoundary(text, c.charStart)).toBe(true);
    expect(isSafeBoundary(text, c.charEnd)).toBe(true);
    expect(c.tokenCount).toBeGreaterThan(0);
    if (i > 0) {
      const prev = chunks[i - 1];
      expect(c.charStart).toBeGreaterThan(prev.charStart);
      expect(c.charEnd).toBeGreaterThan(prev.charEnd);
      // Overlap never exceeds the configured amount.
      expect(prev.charEnd - c.charStart).toBeLessThanOrEqual(overlap);
      // Nothing but whitespace is ever skipped between two chunks.
      if (c.charStart > prev.charEnd) expect(text.slice(prev.charEnd, c.charStart).trim()).toBe('');
    }
    covered = Math.max(covered, c.charEnd);
  });
  expect(text.slice(covered).trim()).toBe('');
  if (chunks.length > 0) expect(text.slice(0, chunks[0].charStart).trim()).toBe('');
}

function hasLoneSurrogate(s: string): boolean {
  return /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}

const ENGLISH_PARAGRAPH =
  'The bicycle changed how people moved through cities. It was cheap, quiet and fast! ' +
  'Workers could live farther from factories, and women gained a new kind of freedom? ' +
  'Road surfaces improved because cyclists demanded it, long before cars arrived. ';
const KOREAN_PARAGRAPH =
  '데비안은 자유 소프트웨어 운영체제이다. 데비안을 설치하면 APT로 패키지를 관리한다! ' +
  '안정판은 서버에 쓰이고 테스팅은 다음 안정판을 준비한다. 우분투도 데비안을 바탕으로 한다. ';

describe('Chunker', () => {
  it('documents its defaults', () => {
    const chunker = new Chunker();
    expect(chunker.chunkSize).toBe(DEFAULT_CHUNK_SIZE);
    expect(chunker.chunkOverlap).toBe(DEFAULT_CHUNK_OVERLAP);
    expect(DEFAULT_CHUNK_SIZE).toBe(1000);
    expect(DEFAULT_CHUNK_OVERLAP).toBe(150);
  });

  it('rejects options that cannot make progress', () => {
    expect(() => new Chunker({ chunkSize: 10 })).toThrow(/CHUNK_SIZE \(chunkSize\)/);
    expect(() => new Chunker({ chunkSize: 100, chunkOverlap: 60 })).toThrow(/CHUNK_OVERLAP/);
    expect(() => new Chunker({ chunkSize: 100, chunkOverlap: -1 })).toThrow(/chunkOverlap/);
  });

  it('returns one trimmed chunk for short text and none for empty text', () => {
    const chunks = new Chunker().chunk('\n\n  A short note.  \n');
    expect(chunks).toEqual([
      { ordinal: 0, text: 'A short note.', charStart: 4, charEnd: 17, tokenCount: 4 },
    ]);
    expect(new Chunker().chunk('')).toEqual([]);
    expect(new Chunker().chunk(' \n\t ')).toEqual([]);
  });

  it.each([
    [200, 40],
    [300, 0],
    [1000, 150],
  ])('holds its invariants on English and Korean prose (size %i, overlap %i)', (size, overlap) => {
    const text = Array.from({ length: 12 }, (_, i) =>
      i % 2 ? KOREAN_PARAGRAPH : ENGLISH_PARAGRAPH,
    ).join('\n\n');
    const chunks = new Chunker({ chunkSize: size, chunkOverlap: overlap }).chunk(text);
    expect(chunks.length).toBeGreaterThan(1);
    expectInvariants(text, chunks, size, overlap);
  });

  it('prefers paragraph, then sentence boundaries', () => {
    const text = [ENGLISH_PARAGRAPH.trim(), KOREAN_PARAGRAPH.trim(), ENGLISH_PARAGRAPH.trim()].join(
      '\n\n',
    );
    const chunks = new Chunker({ chunkSize: 260, chunkOverlap: 0 }).chunk(text);
    expect(chunks[0].text).toBe(ENGLISH_PARAGRAPH.trim());
    expect(chunks[1].text).toBe(KOREAN_PARAGRAPH.trim());
    const sentences = new Chunker({ chunkSize: 60, chunkOverlap: 0 }).chunk(KOREAN_PARAGRAPH);
    for (const c of sentences) expect(c.text).toMatch(/[.!]$/);
    expect(sentences[0].text).toBe(
      '데비안은 자유 소프트웨어 운영체제이다. 데비안을 설치하면 APT로 패키지를 관리한다!',
    );
  });

  it('starts a new chunk at a heading', () => {
    const text = `# First\n\n${ENGLISH_PARAGRAPH.trim()}\n\n# Second\n\n${ENGLISH_PARAGRAPH.trim()}`;
    const chunks = new Chunker({ chunkSize: 400, chunkOverlap: 50 }).chunk(text);
    expect(chunks.map((c) => c.text.split('\n')[0])).toEqual(['# First', '# Second']);
  });

  it('never ends a chunk with a heading whose text did not fit', () => {
    const body = 'The reconciler repairs what drifted between the stores overnight. '.repeat(4);
    const text = `# Intro\n\nShort opening words.\n\n## Details\n\n${body.trim()}\n\n${body.trim()}`;
    for (const overlap of [0, 40]) {
      const chunks = new Chunker({ chunkSize: 300, chunkOverlap: overlap }).chunk(text);
      expectInvariants(text, chunks, 300, overlap);
      expect(chunks.map((c) => c.text.split('\n').pop())).not.toContain('## Details');
      const details = chunks.find((c) => c.text.includes('## Details'));
      expect(details?.text).toMatch(/^## Details\n\nThe reconciler/);
    }
  });

  it('overlaps consecutive chunks from a sentence or word start', () => {
    const text = ENGLISH_PARAGRAPH.repeat(6).trim();
    const chunks = new Chunker({ chunkSize: 250, chunkOverlap: 100 }).chunk(text);
    expectInvariants(text, chunks, 250, 100);
    for (let i = 1; i < chunks.length; i++) {
      expect(chunks[i].charStart).toBeLessThan(chunks[i - 1].charEnd);
      expect(text[chunks[i].charStart - 1]).toMatch(/\s/);
    }
  });

  it('splits CJK text on full-width sentence punctuation without spaces', () => {
    const sentence = '日本語の文章はスペースなしで続きます。';
    const text = sentence.repeat(20);
    const chunks = new Chunker({ chunkSize: 60, chunkOverlap: 0 }).chunk(text);
    expectInvariants(text, chunks, 60, 0);
    for (const c of chunks) expect(c.text.endsWith('。')).toBe(true);
  });

  it('never splits a surrogate pair in text without spaces', () => {
    const text = '😀🎉👍🏽'.repeat(200) + 'x' + '𠀀𠀁'.repeat(200);
    const chunks = new Chunker({ chunkSize: 51, chunkOverlap: 10 }).chunk(text);
    expectInvariants(text, chunks, 51, 10);
    for (const c of chunks) expect(hasLoneSurrogate(c.text)).toBe(false);
    // The skin-tone modifier stays with its emoji.
    for (const c of chunks) expect(c.text.startsWith('🏽')).toBe(false);
  });

  it('never splits a Hangul syllable written as conjoining jamo', () => {
    // Old Hangul: these L V T sequences have no precomposed form, so NFC keeps them apart.
    const syllable = '\u1112\u119e\u11ab'; // ᄒᆞᆫ
    const text = syllable.repeat(300);
    expect(text.normalize('NFC')).toBe(text);
    const chunks = new Chunker({ chunkSize: 50, chunkOverlap: 10 }).chunk(text);
    expectInvariants(text, chunks, 50, 10);
    for (const c of chunks) {
      expect(c.text.length % 3).toBe(0);
      expect(c.text.startsWith('\u1112')).toBe(true);
    }
  });

  it('keeps combining marks with their base letter', () => {
    const text = 'e\u0301'.repeat(500);
    const chunks = new Chunker({ chunkSize: 33, chunkOverlap: 0 }).chunk(text);
    expectInvariants(text, chunks, 33, 0);
    for (const c of chunks) expect(c.text.startsWith('e')).toBe(true);
  });

  it('is deterministic', () => {
    const text = (ENGLISH_PARAGRAPH + KOREAN_PARAGRAPH).repeat(30);
    const a = new Chunker({ chunkSize: 300, chunkOverlap: 60 }).chunk(text);
    const b = new Chunker({ chunkSize: 300, chunkOverlap: 60 }).chunk(text);
    expect(b).toEqual(a);
  });

  it('estimates more tokens for Korean than for the same length of English', () => {
    const [en] = new Chunker().chunk(ENGLISH_PARAGRAPH.slice(0, 100));
    const [ko] = new Chunker().chunk(KOREAN_PARAGRAPH.slice(0, 100));
    expect(en.tokenCount).toBe(25);
    expect(ko.tokenCount).toBeGreaterThan(en.tokenCount);
  });

  it('handles a multi-megabyte text with few boundaries', () => {
    const text = ('word '.repeat(5000) + '\n').repeat(50) + 'x'.repeat(200_000);
    const chunks = new Chunker().chunk(text);
    expectInvariants(text, chunks, DEFAULT_CHUNK_SIZE, DEFAULT_CHUNK_OVERLAP);
  });

  describe('on extracted documents', () => {
    const extractor = new DocumentExtractor();
    afterAll(() => extractor.close());

    it('maps PDF chunks to their pages', async () => {
      const doc = await extractor.extract(fixture('sample-en.pdf'));
      const chunks = new Chunker({ chunkSize: 200, chunkOverlap: 40 }).chunkDocument(doc);
      expectInvariants(doc.text, chunks, 200, 40);
      for (const c of chunks) {
        const page = doc.pages.find((p) => p.page === c.page)!;
        expect(c.charStart).toBeGreaterThanOrEqual(page.charStart);
        expect(c.charStart).toBeLessThan(page.charEnd + 2);
      }
      const ash = chunks.find((c) => c.text.includes('ash cloud'))!;
      expect(ash.page).toBe(2);
      const lagoon = chunks.find((c) => c.text.includes('Blue Lagoon'))!;
      expect(lagoon.page).toBe(3);
      expect(chunks[0].page).toBe(1);
    });

    it('starts a chunk at each page when pages are long enough', async () => {
      const doc = await extractor.extract(fixture('sample-ko.pdf'));
      const chunks = new Chunker({ chunkSize: 200, chunkOverlap: 30 }).chunkDocument(doc);
      expectInvariants(doc.text, chunks, 200, 30);
      expect(chunks.map((c) => c.page)).toEqual([1, 2, 3]);
      expect(chunks[1].text.startsWith('해녀 문화')).toBe(true);
      expect(chunks[2].text).toContain('돌하르방');
    });

    it('reports the last page of a chunk that runs across pages', () => {
      const doc: Pick<ExtractedDocument, 'text' | 'pages'> = {
        text: 'one two three\n\nfour five six',
        pages: [
          { page: 1, charStart: 0, charEnd: 13 },
          { page: 2, charStart: 15, charEnd: 28 },
        ],
      };
      const [chunk] = new Chunker().chunkDocument(doc);
      expect(chunk).toMatchObject({ page: 1, pageEnd: 2, charStart: 0, charEnd: 28 });
    });

    it.each([
      'sample-en.md',
      'sample-ko.md',
      'sample-ko.html',
      'sample-en.docx',
      'sample-ko-euckr.txt',
    ])('holds its invariants on %s', async (name) => {
      const doc = await extractor.extract(fixture(name));
      const chunks = new Chunker({ chunkSize: 120, chunkOverlap: 30 }).chunkDocument(doc);
      expect(chunks.length).toBeGreaterThan(1);
      expectInvariants(doc.text, chunks, 120, 30);
      for (const c of chunks) expect(c.page).toBeUndefined();
    });
  });
});
