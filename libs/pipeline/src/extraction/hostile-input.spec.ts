import {
  docxBomb,
  docxLyingDirectory,
  docxManyEntries,
  emptyComments,
  invalidUtf8,
  pdfFlateBomb,
  pdfSharedContent,
  utf16WithLoneSurrogates,
  whitespaceRun,
  withNulBytes,
} from '../../test/hostile-corpus';
import { Chunker } from '../chunking/chunker';
import {
  ExtractionLimitError,
  isPermanent,
  PipelineError,
  UnsupportedTypeError,
} from '../pipeline-errors';
import { checkDocxArchive } from './docx-archive';
import { DocumentExtractor } from './document-extractor';
import { markdownTitle } from './extract-document';
import { DEFAULT_EXTRACTION_LIMITS } from './extraction-limits';
import {
  detectTextType,
  detectType,
  MIME_HTML,
  MIME_MARKDOWN,
  MIME_PDF,
  MIME_TEXT,
} from './type-detector';

/*
 * Hostile input for every sniffing and extraction path. A super-linear pattern would not
 * fail an assertion here: it would run for hours, and the test's timeout fails it.
 */
describe('hostile input', () => {
  describe('type sniffing', () => {
    it('reads 40 empty comments before a non-tag as text', () => {
      expect(detectType(Buffer.from(emptyComments(40)))).toBe(MIME_TEXT);
      expect(detectTextType(emptyComments(40))).toBe(MIME_TEXT);
    });

    it('still finds HTML and SVG after many comments', () => {
      expect(detectTextType(`${'<!---->'.repeat(500)}\n<html><p>x</p></html>`)).toBe(MIME_HTML);
      expect(detectTextType(`<?xml version="1.0"?>\n<!-- a -->\n<!-- b --><div>x</div>`)).toBe(
        MIME_HTML,
      );
      expect(() => detectTextType(`${'<!-- c -->'.repeat(300)}<svg></svg>`)).toThrow(
        UnsupportedTypeError,
      );
    });

    it('does not mistake an unclosed comment or declaration for HTML', () => {
      expect(detectTextType(`<!--${'-'.repeat(100_000)}<html>`)).toBe(MIME_TEXT);
      expect(detectTextType(`<?xml ${'a'.repeat(100_000)}`)).toBe(MIME_TEXT);
    });

    it('scores 64 KiB of brackets, asterisks and long lines as plain text', () => {
      for (const body of [
        '['.repeat(64 * 1024),
        `[${'a'.repeat(64 * 1024)}`,
        '**'.repeat(32 * 1024),
        '](['.repeat(20 * 1024),
        `${'\u2028'.repeat(32 * 1024)}x`,
        'x'.repeat(1_000_000),
        whitespaceRun(200_000),
      ]) {
        expect(detectType(Buffer.from(body))).toBe(MIME_TEXT);
      }
    });

    it('still scores real Markdown', () => {
      expect(
        detectTextType('# Title\n\n- one\n- two\n\nSee [the docs](https://example.com).'),
      ).toBe(MIME_MARKDOWN);
    });
  });

  describe('titles', () => {
    it('takes ATX and setext headings, and skips long runs in linear time', () => {
      expect(markdownTitle('intro\n## Second level ##\nbody')).toBe('Second level');
      expect(markdownTitle('Plain\nTitle\n=====\nbody')).toBe('Title');
      expect(markdownTitle(`#${' '.repeat(100_000)}x${' '.repeat(100_000)}#`)).toBe('x');
      expect(markdownTitle(`# ${'#'.repeat(100_000)}`)).toBe('#');
      expect(markdownTitle(`${'a '.repeat(100_000)}\nbody`)).toBeUndefined();
    });
  });

  describe('extraction', () => {
    const extractor = new DocumentExtractor({
      timeoutMs: 60_000,
      maxChars: 50_000,
      maxPages: 100,
      docxMaxUncompressedBytes: 16 * 1024 * 1024,
    });
    afterAll(() => extractor.close());

    const failure = async (bytes: Uint8Array, mimeType?: string) => {
      const err = await extractor
        .extract(bytes, { mimeType: mimeType as typeof MIME_TEXT | undefined })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(PipelineError);
      expect(isPermanent(err)).toBe(true);
      return err as PipelineError;
    };

    it('reads a long whitespace run as text and Markdown', async () => {
      for (const mimeType of [MIME_TEXT, MIME_MARKDOWN] as const) {
        const doc = await extractor.extract(Buffer.from(whitespaceRun(40_000)), { mimeType });
        expect(doc.text.startsWith('a')).toBe(true);
        expect(doc.text.endsWith('b')).toBe(true);
        const trailing = await extractor.extract(Buffer.from(`words${' '.repeat(40_000)}`), {
          mimeType,
        });
        expect(trailing.text).toBe('words');
      }
    });

    it('drops NUL characters and keeps the words around them', async () => {
      const doc = await extractor.extract(withNulBytes());
      expect(doc.text).not.toContain('\u0000');
      expect(doc.text).toContain('Plain words about nothing');
    });

    it('refuses text that is mostly NUL bytes as binary', async () => {
      const err = await failure(Buffer.alloc(4096, 0));
      expect(err).toBeInstanceOf(UnsupportedTypeError);
    });

    it('turns invalid UTF-8 and lone UTF-16 surrogates into well-formed text', async () => {
      const broken = await extractor.extract(invalidUtf8());
      expect(broken.text).toContain('valid end');
      expect(() => encodeURIComponent(broken.text)).not.toThrow();
      const surrogates = await extractor.extract(utf16WithLoneSurrogates());
      expect(surrogates.encoding).toBe('utf-16le');
      expect(surrogates.text).toContain('after and more words');
      // encodeURIComponent throws on a lone surrogate.
      expect(() => encodeURIComponent(surrogates.text)).not.toThrow();
    });

    it('fails text longer than EXTRACT_MAX_CHARS, naming the limit', async () => {
      for (const mimeType of [MIME_TEXT, MIME_MARKDOWN, MIME_HTML]) {
        const err = await failure(Buffer.from('word '.repeat(20_000)), mimeType);
        expect(err).toBeInstanceOf(ExtractionLimitError);
        expect((err as ExtractionLimitError).limit).toBe('EXTRACT_MAX_CHARS');
        expect(err.message).toMatch(
          /extracted text exceeds EXTRACT_MAX_CHARS \(50,000 characters\)/,
        );
      }
    });

    it('fails a PDF with more pages than EXTRACT_MAX_PAGES before reading them', async () => {
      const pdf = pdfSharedContent(101);
      expect(detectType(pdf)).toBe(MIME_PDF);
      const err = await failure(pdf);
      expect((err as ExtractionLimitError).limit).toBe('EXTRACT_MAX_PAGES');
      expect(err.message).toMatch(/page count \(101\) exceeds EXTRACT_MAX_PAGES \(100 pages\)/);
    });

    it('fails a PDF whose shared content stream amplifies past EXTRACT_MAX_CHARS', async () => {
      const pdf = pdfSharedContent(100);
      expect(pdf.length).toBeLessThan(32_000);
      const err = await failure(pdf);
      expect((err as ExtractionLimitError).limit).toBe('EXTRACT_MAX_CHARS');
    });

    it('reads a small PDF of shared pages within the caps', async () => {
      const doc = await extractor.extract(pdfSharedContent(3, 'Shared words on each page.', 2));
      expect(doc.pages).toHaveLength(3);
      expect(doc.text).toContain('Shared words on each page.');
    });

    it('fails a DOCX bomb from its zip directory, before unzipping', async () => {
      const bomb = await docxBomb(64 * 1024 * 1024);
      expect(bomb.length).toBeLessThan(1024 * 1024);
      const err = await failure(bomb);
      expect((err as ExtractionLimitError).limit).toBe('DOCX_MAX_UNCOMPRESSED_BYTES');
      expect(err.message).toMatch(/unzipped size exceeds DOCX_MAX_UNCOMPRESSED_BYTES/);
    });

    it('fails a DOCX whose compression ratio exceeds DOCX_MAX_RATIO', async () => {
      const err = await failure(await docxBomb(8 * 1024 * 1024));
      expect((err as ExtractionLimitError).limit).toBe('DOCX_MAX_RATIO');
    });

    it('fails a DOCX with more entries than DOCX_MAX_ENTRIES', async () => {
      const err = await failure(docxManyEntries(DEFAULT_EXTRACTION_LIMITS.docxMaxEntries + 1));
      expect((err as ExtractionLimitError).limit).toBe('DOCX_MAX_ENTRIES');
    });

    it('fails a DOCX whose directory understates an entry, without inflating past it', () => {
      const lying = docxLyingDirectory(4 * 1024 * 1024);
      expect(() =>
        checkDocxArchive(lying, { ...DEFAULT_EXTRACTION_LIMITS, docxMaxRatio: 1e9 }),
      ).toThrow(/expands beyond its declared size/);
    });

    it('ends a thread that runs out of heap, fails the document permanently, and carries on', async () => {
      const small = new DocumentExtractor({ maxHeapMb: 32, maxChars: 100_000_000 });
      try {
        const err = await small
          .extract(Buffer.from('<p>word</p>'.repeat(3_000_000)), { mimeType: MIME_HTML })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ExtractionLimitError);
        expect((err as ExtractionLimitError).limit).toBe('EXTRACT_MAX_HEAP_MB');
        expect(isPermanent(err)).toBe(true);
        const doc = await small.extract(Buffer.from('still here'), { mimeType: MIME_TEXT });
        expect(doc.text).toBe('still here');
      } finally {
        await small.close();
      }
    });
  });

  it('ends a thread whose array buffers outgrow the limit, though its heap stays small', async () => {
    const bomb = await pdfFlateBomb(400 * 1024 * 1024);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const small = new DocumentExtractor({ maxHeapMb: 96 });
    try {
      const err = await small.extract(bomb).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ExtractionLimitError);
      expect((err as ExtractionLimitError).limit).toBe('EXTRACT_MAX_HEAP_MB');
      expect((err as Error).message).toMatch(/more memory than EXTRACT_MAX_HEAP_MB \(96 MB\)/);
    } finally {
      await small.close();
    }
  });

  describe('chunking', () => {
    it('fails a document with more chunks than EXTRACT_MAX_CHUNKS', () => {
      const chunker = new Chunker({ chunkSize: 100, chunkOverlap: 0, maxChunks: 5 });
      expect(() => chunker.chunk('word '.repeat(1_000))).toThrow(
        /number of chunks exceeds EXTRACT_MAX_CHUNKS \(5 chunks\)/,
      );
      expect(chunker.chunk('word '.repeat(50)).length).toBeLessThanOrEqual(5);
    });

    it('chunks in the extraction thread exactly as on the caller, and fails past the cap there', async () => {
      const extractor = new DocumentExtractor();
      try {
        const text = `# Title\n\n${'A sentence of several words. '.repeat(400)}`;
        const chunker = new Chunker({ chunkSize: 200, chunkOverlap: 20 });
        const { doc, chunks } = await extractor.extractAndChunk(
          Buffer.from(text),
          { mimeType: MIME_MARKDOWN },
          chunker,
        );
        expect(chunks.length).toBeGreaterThan(10);
        expect(chunks).toEqual(chunker.chunkDocument(doc));
        const err = await extractor
          .extractAndChunk(
            Buffer.from(text),
            { mimeType: MIME_MARKDOWN },
            new Chunker({ chunkSize: 200, chunkOverlap: 20, maxChunks: 5 }),
          )
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ExtractionLimitError);
        expect((err as ExtractionLimitError).limit).toBe('EXTRACT_MAX_CHUNKS');
      } finally {
        await extractor.close();
      }
    });

    it('cuts long runs without whitespace or sentence ends', () => {
      const chunker = new Chunker({ chunkSize: 1000, chunkOverlap: 150 });
      for (const text of [
        'x'.repeat(200_000),
        `${'.'.repeat(100_000)} end`,
        whitespaceRun(200_000),
      ]) {
        const chunks = chunker.chunk(text);
        expect(chunks.length).toBeGreaterThan(0);
        expect(chunks.every((c) => c.text.length <= 1000)).toBe(true);
      }
    });
  });
});
