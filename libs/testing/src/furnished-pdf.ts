import PDFDocument from 'pdfkit';
import { seededRandom } from './seeded-random';

export interface FurnishedPdfOptions {
  title: string;
  /** body pages, after one table-of-contents page */
  pages: number;
  /** how the footer numbers pages */
  footer: 'page-of' | 'number';
  /** ". . . . ." (LaTeX and DocBook) or "......" (word processors) */
  leader: 'spaced' | 'dense';
  seed: number;
}

export interface FurnishedPdf {
  bytes: Buffer;
  /** every sentence of the body text, exactly as written (hyphenated words whole) */
  sentences: string[];
  /** every line printed around the text: headers, footers, the contents */
  furniture: string[];
}

/** The manuals the tests and bench/page-furniture.bench.ts generate and measure. */
export const FURNISHED_MANUALS: readonly FurnishedPdfOptions[] = [
  { title: 'Quarry Operations Manual', pages: 9, footer: 'page-of', leader: 'spaced', seed: 7 },
  { title: 'Recovery Handbook', pages: 6, footer: 'number', leader: 'dense', seed: 11 },
];

const ADJECTIVES = ['durable', 'replicated', 'idempotent', 'scheduled', 'incremental', 'stale'];
const NOUNS = [
  'reconciler',
  'configuration',
  'checkpoint',
  'infrastructure',
  'embedding',
  'transaction',
  'heartbeat',
  'collection',
  'snapshot',
  'generation',
];
const VERBS = ['rebuilds', 'verifies', 'schedules', 'compresses', 'replaces', 'inspects'];
const ENDINGS = [
  'before the maintenance window closes',
  'whenever an operator requests it',
  'after every interrupted deployment',
  'without holding a database connection',
  'during the nightly consolidation',
];
const CHAPTERS = ['Installation', 'Operations', 'Recovery', 'Monitoring', 'Upgrades'];
const LINE_CHARS = 88;
const LINE_HEIGHT = 14;

/**
 * A manual-like PDF with what typeset documents put around their text: a table of
 * contents with dot leaders, a running header that alternates between the title and the
 * chapter, a footer with the page number, and words hyphenated at line ends. Every body
 * sentence is distinct, so a test can look each one up.
 */
export async function furnishedPdf(options: FurnishedPdfOptions): Promise<FurnishedPdf> {
  const random = seededRandom(options.seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  const sentences: string[] = [];
  const furniture = new Set<string>(['Contents']);
  const total = options.pages + 1;
  const doc = new PDFDocument({ size: 'A4', margin: 50, info: { Title: options.title } });
  const parts: Buffer[] = [];
  doc.on('data', (part: Buffer) => parts.push(part));
  const done = new Promise<void>((resolve) => doc.on('end', () => resolve()));
  doc.font('Helvetica').fontSize(10);

  const sections = Array.from({ length: options.pages }, (_, i) => ({
    heading: `${Math.floor(i / 2) + 1}.${(i % 2) + 1} ${pick(ADJECTIVES)} ${pick(NOUNS)} handling`,
    chapter: `${Math.floor(i / 2) + 1}: ${CHAPTERS[Math.floor(i / 2) % CHAPTERS.length]}`,
  }));

  doc.fontSize(16).text('Contents', 50, 60, { lineBreak: false }).fontSize(10);
  sections.forEach((section, i) => {
    const leader = options.leader === 'spaced' ? ' .'.repeat(24) : '.'.repeat(40);
    const line = `${section.heading}${leader} ${i + 2}`;
    furniture.add(line);
    doc.text(line, 60, 100 + i * LINE_HEIGHT, { lineBreak: false });
  });
  footer(doc, options, 1, total, furniture);

  sections.forEach((section, i) => {
    doc.addPage();
    const page = i + 2;
    const header = page % 2 === 0 ? options.title : `Chapter ${section.chapter}`;
    furniture.add(header);
    doc.text(header, 50, 30, { lineBreak: false });
    doc.fontSize(13).text(section.heading, 50, 70, { lineBreak: false }).fontSize(10);
    const body: string[] = [];
    for (let n = 0; n < 24; n++) {
      const sentence = `The ${pick(ADJECTIVES)} ${pick(NOUNS)} ${pick(VERBS)} the ${pick(NOUNS)} of shard ${page * 100 + n} ${pick(ENDINGS)}.`;
      sentences.push(sentence);
      body.push(sentence);
    }
    wrap(body.join(' ')).forEach((line, k) => {
      doc.text(line, 50, 100 + k * LINE_HEIGHT, { lineBreak: false });
    });
    footer(doc, options, page, total, furniture);
  });
  doc.end();
  await done;
  return { bytes: Buffer.concat(parts), sentences, furniture: [...furniture] };
}

function footer(
  doc: PDFKit.PDFDocument,
  options: FurnishedPdfOptions,
  page: number,
  total: number,
  furniture: Set<string>,
): void {
  const text = options.footer === 'page-of' ? `Page ${page} of ${total}` : String(page);
  furniture.add(text);
  doc.text(text, 280, 800, { lineBreak: false });
}

/** Lines of at most LINE_CHARS, breaking long lowercase words with a hyphen as typesetters do. */
function wrap(text: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    const room = LINE_CHARS - line.length - (line ? 1 : 0);
    if (word.length <= room) {
      line = line ? `${line} ${word}` : word;
      continue;
    }
    if (/^[a-z]{8,}$/.test(word) && room >= 5) {
      const cut = Math.min(room - 1, word.length - 3);
      lines.push(`${line} ${word.slice(0, cut)}-`);
      line = word.slice(cut);
      continue;
    }
    lines.push(line);
    line = word;
  }
  if (line) lines.push(line);
  return lines;
}

export interface FurnitureReport {
  chunks: number;
  /** chunks of which more than half the characters are furniture lines */
  mostlyFurniture: number;
  /** furniture lines left anywhere in the chunks */
  furnitureLines: number;
  sentences: number;
  /** sentences found whole in at least one chunk (whitespace aside) */
  sentencesFound: number;
  /** the sentences not found, for a failure message */
  missing: string[];
}

/** How much of a document's chunks is furniture, and whether every body sentence survived. */
export function furnitureReport(
  chunks: readonly string[],
  truth: Pick<FurnishedPdf, 'sentences' | 'furniture'>,
): FurnitureReport {
  const furniture = new Set(truth.furniture.map(collapse));
  let mostlyFurniture = 0;
  let furnitureLines = 0;
  for (const chunk of chunks) {
    const lines = chunk.split('\n').map(collapse);
    const furnished = lines.filter((line) => furniture.has(line));
    furnitureLines += furnished.length;
    const share = furnished.join('').length / Math.max(1, lines.join('').length);
    if (share > 0.5) mostlyFurniture++;
  }
  const flat = chunks.map(collapse);
  const missing = truth.sentences.filter((s) => !flat.some((c) => c.includes(collapse(s))));
  return {
    chunks: chunks.length,
    mostlyFurniture,
    furnitureLines,
    sentences: truth.sentences.length,
    sentencesFound: truth.sentences.length - missing.length,
    missing,
  };
}

function collapse(text: string): string {
  return text.split(/\s+/).filter(Boolean).join(' ');
}

/**
 * The text a fixture generator wrote into one document: the quoted strings of at least
 * 20 characters in its `const <name> = { … };` block (paragraphs and headings).
 */
export function paragraphsOf(generatorSource: string, constant: string): string[] {
  const start = generatorSource.indexOf(`const ${constant}`);
  if (start < 0) return [];
  const block = generatorSource.slice(start, generatorSource.indexOf('\n};', start));
  return [...block.matchAll(/'([^'\n]{20,})'/g)].map((m) => m[1]);
}
