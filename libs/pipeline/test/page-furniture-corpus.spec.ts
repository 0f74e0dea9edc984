import { FURNISHED_MANUALS, furnishedPdf, furnitureReport, paragraphsOf } from '@quarry/testing';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Chunker } from '../src/chunking/chunker';
import { DocumentExtractor } from '../src/extraction/document-extractor';
import { fixture } from './fixtures';

/*
 * Chunks are text, not page furniture: PDFs with running headers, footers, page numbers,
 * a dot-leader table of contents and hyphenated line breaks come out as their body text,
 * every sentence of it intact. bench/page-furniture.bench.ts measures the same corpus.
 */
const CHUNKINGS = [new Chunker(), new Chunker({ chunkSize: 400, chunkOverlap: 60 })];

describe('chunks of PDFs with page furniture', () => {
  const extractor = new DocumentExtractor({ timeoutMs: 30_000 });
  afterAll(() => extractor.close());

  it.each(FURNISHED_MANUALS)(
    'keep the text of "$title" and none of its furniture',
    async (options) => {
      const pdf = await furnishedPdf(options);
      const doc = await extractor.extract(pdf.bytes);
      for (const chunker of CHUNKINGS) {
        const report = furnitureReport(
          chunker.chunkDocument(doc).map((c) => c.text),
          pdf,
        );
        expect(report.missing).toEqual([]);
        expect(report).toMatchObject({ mostlyFurniture: 0, furnitureLines: 0 });
        expect(report.sentencesFound).toBe(options.pages * 24);
      }
      // the hyphenated words were joined again
      expect(doc.text).not.toMatch(/[a-z]-\n[a-z]/);
    },
  );

  it.each(['sample-en.pdf', 'sample-ko.pdf'])(
    'lose nothing of a PDF without furniture (%s)',
    async (name) => {
      const doc = await extractor.extract(fixture(name));
      const generator = readFileSync(join(__dirname, 'generate-fixtures.ts'), 'utf8');
      const paragraphs = paragraphsOf(generator, name === 'sample-en.pdf' ? 'PDF_EN' : 'PDF_KO');
      expect(paragraphs.length).toBeGreaterThanOrEqual(5);
      const report = furnitureReport(
        new Chunker().chunkDocument(doc).map((c) => c.text),
        { sentences: paragraphs, furniture: [] },
      );
      expect(report.missing).toEqual([]);
    },
  );
});
