/*
 * Page furniture in chunks: generated manuals (running headers, footers, page numbers, a
 * dot-leader table of contents, hyphenated line breaks) and the sample PDFs, extracted
 * and chunked with the default settings. Per document: chunks, chunks that are mostly
 * furniture (over half their characters), furniture lines left, and body sentences found
 * whole in a chunk. Not a timing: the same numbers come out on every machine.
 *   npm run bench:furniture [-- --label before|after]   → bench/results/page-furniture.json
 * The label keeps the other label's section, so running it on the commit before a change
 * and again after it leaves both in the file.
 */
import { Chunker, DocumentExtractor } from '@quarry/pipeline';
import {
  FURNISHED_MANUALS,
  furnishedPdf,
  furnitureReport,
  paragraphsOf,
  type FurnitureReport,
} from '@quarry/testing';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from './support/bench-report';

const RESULTS = join(REPO_ROOT, 'bench', 'results', 'page-furniture.json');
const PIPELINE_TEST = join(REPO_ROOT, 'libs', 'pipeline', 'test');

type Row = Omit<FurnitureReport, 'missing'> & { document: string; mostlyFurnitureShare: number };

async function main(): Promise<void> {
  const labelAt = process.argv.indexOf('--label');
  const label = labelAt > 0 ? process.argv[labelAt + 1] : 'after';
  const extractor = new DocumentExtractor();
  const chunker = new Chunker();
  const rows: Row[] = [];
  const measure = async (
    document: string,
    bytes: Buffer,
    truth: Parameters<typeof furnitureReport>[1],
  ) => {
    const doc = await extractor.extract(bytes);
    const { missing: _missing, ...report } = furnitureReport(
      chunker.chunkDocument(doc).map((c) => c.text),
      truth,
    );
    const mostlyFurnitureShare = Math.round((report.mostlyFurniture / report.chunks) * 1000) / 1000;
    rows.push({ document, ...report, mostlyFurnitureShare });
  };
  try {
    for (const options of FURNISHED_MANUALS) {
      const pdf = await furnishedPdf(options);
      await measure(`${options.title} (generated, ${options.pages + 1} pages)`, pdf.bytes, pdf);
    }
    const generator = readFileSync(join(PIPELINE_TEST, 'generate-fixtures.ts'), 'utf8');
    for (const [name, constant] of [
      ['sample-en.pdf', 'PDF_EN'],
      ['sample-ko.pdf', 'PDF_KO'],
    ]) {
      await measure(name, readFileSync(join(PIPELINE_TEST, 'fixtures', name)), {
        sentences: paragraphsOf(generator, constant),
        furniture: [],
      });
    }
  } finally {
    await extractor.close();
  }
  const total = (key: 'chunks' | 'mostlyFurniture' | 'sentences' | 'sentencesFound') =>
    rows.reduce((n, r) => n + r[key], 0);
  const section = {
    measuredAt: new Date().toISOString(),
    chunkSize: chunker.chunkSize,
    chunkOverlap: chunker.chunkOverlap,
    documents: rows,
    total: {
      chunks: total('chunks'),
      mostlyFurniture: total('mostlyFurniture'),
      mostlyFurnitureShare: Math.round((total('mostlyFurniture') / total('chunks')) * 1000) / 1000,
      sentences: total('sentences'),
      sentencesFound: total('sentencesFound'),
    },
  };
  const previous = existsSync(RESULTS) ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as object) : {};
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify({ ...previous, [label]: section }, null, 2)}\n`);
  console.table(rows);
  console.log(`${label}:`, section.total);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
