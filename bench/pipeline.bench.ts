/*
 * Pipeline throughput: extraction, chunking and hashing embedding on the sample
 * documents and on a synthetic 5 MB Korean/English text. Pure CPU, nothing running.
 *   npm run bench:pipeline   → bench/results/pipeline.json
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import PDFDocument from 'pdfkit';
import { Chunker, DocumentExtractor, HashingEmbedder, isPermanent } from '@quarry/pipeline';

// Compiled to dist/bench/, so the repository root is two levels up.
const ROOT = resolve(__dirname, '..', '..');
const FIXTURES = join(ROOT, 'libs', 'pipeline', 'test', 'fixtures');
const RESULTS = join(ROOT, 'bench', 'results', 'pipeline.json');
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 20);

const EN = [
  'The reconciler compares every document in PostgreSQL with the points stored in Qdrant and repairs what drifted.',
  'Workers claim a document, extract its text, split it into chunks and embed them in batches before indexing.',
  'A retry with exponential backoff gives a flaky embedding service time to recover without overwhelming it.',
  'Search keeps only chunks whose document is completed at its current generation, so nothing half-indexed shows.',
];
const KO = [
  '데비안은 자유 소프트웨어 운영체제이며 APT로 수만 개의 패키지를 관리한다.',
  '작업자는 문서를 가져와 텍스트를 추출하고 조각으로 나눈 뒤 임베딩을 계산한다.',
  '제주 해녀는 산소통 없이 바다에 들어가 전복과 소라를 채취하며 숨비소리를 낸다.',
  '서울 지하철 1호선은 1974년에 개통되었고 지금은 수도권 여러 도시를 잇는다.',
];

/** Deterministic mixed-language text with headings and paragraphs, about `bytes` of UTF-8. */
function syntheticText(bytes: number): string {
  let seed = 42;
  const rand = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const parts: string[] = [];
  let size = 0;
  let section = 0;
  while (size < bytes) {
    let block: string;
    if (rand() < 0.05) {
      block = `## Section ${++section} 구역 ${section}`;
    } else {
      const pool = rand() < 0.5 ? EN : KO;
      const sentences = 2 + Math.floor(rand() * 6);
      block = Array.from({ length: sentences }, () => pool[Math.floor(rand() * pool.length)]).join(
        ' ',
      );
    }
    parts.push(block);
    size += Buffer.byteLength(block) + 2;
  }
  return parts.join('\n\n');
}

/** A text-only PDF of `pages` A4 pages of English prose, built in memory. */
function syntheticPdf(pages: number): Promise<Buffer> {
  return new Promise((resolvePdf, reject) => {
    const pdf = new PDFDocument({ size: 'A4', margin: 50, autoFirstPage: false });
    const parts: Buffer[] = [];
    pdf.on('data', (b: Buffer) => parts.push(b));
    pdf.on('end', () => resolvePdf(Buffer.concat(parts)));
    pdf.on('error', reject);
    for (let p = 0; p < pages; p++) {
      pdf.addPage().font('Helvetica').fontSize(10);
      pdf.text(`Page ${p + 1}. ` + EN.join(' ').repeat(6));
    }
    pdf.end();
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summary(samples: number[]): { p50: number; p99: number; min: number; max: number } {
  const s = [...samples].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return {
    p50: r(percentile(s, 50)),
    p99: r(percentile(s, 99)),
    min: r(s[0] ?? 0),
    max: r(s[s.length - 1] ?? 0),
  };
}

async function time<T>(fn: () => Promise<T> | T): Promise<[T, number]> {
  const start = performance.now();
  const value = await fn();
  return [value, performance.now() - start];
}

async function main(): Promise<void> {
  const extractor = new DocumentExtractor();
  const chunker = new Chunker();
  const embedder = new HashingEmbedder();
  const fixtures: Record<string, unknown>[] = [];

  try {
    for (const name of readdirSync(FIXTURES).sort()) {
      const bytes = readFileSync(join(FIXTURES, name));
      const extractMs: number[] = [];
      const chunkMs: number[] = [];
      const embedMs: number[] = [];
      let chunkCount = 0;
      let mimeType = '';
      let error: string | undefined;
      for (let i = 0; i < ITERATIONS; i++) {
        try {
          const [doc, te] = await time(() => extractor.extract(bytes, { filename: name }));
          const [chunks, tc] = await time(() => chunker.chunkDocument(doc));
          const [, tm] = await time(() => embedder.embed(chunks.map((c) => c.text)));
          extractMs.push(te);
          chunkMs.push(tc);
          embedMs.push(tm);
          chunkCount = chunks.length;
          mimeType = doc.mimeType;
        } catch (err) {
          error = `${(err as Error).name}${isPermanent(err) ? ' (permanent)' : ''}`;
          break;
        }
      }
      fixtures.push(
        error
          ? { name, bytes: bytes.length, error }
          : {
              name,
              bytes: bytes.length,
              mimeType,
              chunks: chunkCount,
              extractMs: summary(extractMs),
              chunkMs: summary(chunkMs),
              embedMs: summary(embedMs),
            },
      );
      console.log(
        `${name.padEnd(24)} ${error ?? `${mimeType} ${chunkCount} chunks, extract p50 ${summary(extractMs).p50} ms`}`,
      );
    }

    // Synthetic 5 MB: the whole path for one large upload.
    const text = syntheticText(5 * 1024 * 1024);
    const bytes = Buffer.from(text, 'utf8');
    const [doc, extractMs] = await time(() => extractor.extract(bytes, { filename: 'large.txt' }));
    const chunkRuns: number[] = [];
    let chunks = chunker.chunkDocument(doc);
    for (let i = 0; i < 5; i++) {
      const [c, ms] = await time(() => chunker.chunkDocument(doc));
      chunks = c;
      chunkRuns.push(ms);
    }
    const batchSize = 64;
    const batchMs: number[] = [];
    const [, embedTotalMs] = await time(async () => {
      for (let i = 0; i < chunks.length; i += batchSize) {
        const batch = chunks.slice(i, i + batchSize).map((c) => c.text);
        const [, ms] = await time(() => embedder.embed(batch));
        batchMs.push(ms);
      }
    });
    const chunkP50 = summary(chunkRuns).p50;
    const mb = bytes.length / (1024 * 1024);
    const large = {
      bytes: bytes.length,
      characters: text.length,
      chunks: chunks.length,
      extractMs: Math.round(extractMs * 10) / 10,
      chunkMs: summary(chunkRuns),
      chunkMBps: Math.round((mb / (chunkP50 / 1000)) * 10) / 10,
      embedTotalMs: Math.round(embedTotalMs),
      embedChunksPerSecond: Math.round(chunks.length / (embedTotalMs / 1000)),
      embedMBps: Math.round((mb / (embedTotalMs / 1000)) * 100) / 100,
      embedBatchOf64Ms: summary(batchMs),
      endToEndMs: Math.round(extractMs + chunkP50 + embedTotalMs),
    };
    console.log(
      `synthetic 5 MB: ${large.chunks} chunks; extract ${large.extractMs} ms, chunk p50 ${chunkP50} ms ` +
        `(${large.chunkMBps} MB/s), embed ${large.embedTotalMs} ms (${large.embedChunksPerSecond} chunks/s)`,
    );

    // Synthetic 100-page PDF: parsing cost per page in the worker thread.
    const pdfBytes = await syntheticPdf(100);
    const pdfRuns: number[] = [];
    let pdfChars = 0;
    for (let i = 0; i < 3; i++) {
      const [pdfDoc, ms] = await time(() => extractor.extract(pdfBytes));
      pdfRuns.push(ms);
      pdfChars = pdfDoc.text.length;
    }
    const pdfP50 = summary(pdfRuns).p50;
    const pdf100 = {
      bytes: pdfBytes.length,
      pages: 100,
      characters: pdfChars,
      extractMs: summary(pdfRuns),
      pagesPerSecond: Math.round(100 / (pdfP50 / 1000)),
    };
    console.log(
      `synthetic 100-page PDF: extract p50 ${pdfP50} ms (${pdf100.pagesPerSecond} pages/s)`,
    );

    const result = {
      benchmark: 'pipeline',
      date: new Date().toISOString(),
      node: process.version,
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      // The machine is shared: a high load average explains slow runs.
      loadAverage1m: Math.round(loadavg()[0] * 100) / 100,
      iterations: ITERATIONS,
      settings: {
        chunkSize: chunker.chunkSize,
        chunkOverlap: chunker.chunkOverlap,
        embedder: embedder.model,
        dimension: embedder.dimension,
      },
      fixtures,
      synthetic5MB: large,
      syntheticPdf100Pages: pdf100,
    };
    mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`written ${RESULTS}`);
  } finally {
    await extractor.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
