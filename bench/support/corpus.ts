import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './bench-report';

export const FIXTURES_DIR = join(REPO_ROOT, 'libs', 'pipeline', 'test', 'fixtures');

const EN = [
  'The reconciler compares every document in PostgreSQL with the points stored in Qdrant and repairs what drifted.',
  'Workers claim a document, extract its text, split it into chunks and embed them in batches before indexing.',
  'A retry with exponential backoff gives a flaky embedding service time to recover without overwhelming it.',
  'Search keeps only chunks whose document is completed at its current generation, so nothing half-indexed shows.',
  'Operators read the queue depth and the age of the oldest waiting job before they scale the worker fleet.',
  'An upload is answered at once; extraction, chunking and embedding happen later on another machine.',
];
const KO = [
  '데비안은 자유 소프트웨어 운영체제이며 APT로 수만 개의 패키지를 관리한다.',
  '작업자는 문서를 가져와 텍스트를 추출하고 조각으로 나눈 뒤 임베딩을 계산한다.',
  '제주 해녀는 산소통 없이 바다에 들어가 전복과 소라를 채취하며 숨비소리를 낸다.',
  '서울 지하철 1호선은 1974년에 개통되었고 지금은 수도권 여러 도시를 잇는다.',
  '검색 결과에는 처리가 끝난 문서의 최신 세대 조각만 나타난다.',
  '업로드는 즉시 응답하고 무거운 처리는 백그라운드 작업자가 맡는다.',
];

/**
 * Deterministic mixed Korean/English text with headings and paragraphs, about `bytes`
 * bytes of UTF-8 (never more). Different seeds give different texts.
 */
export function syntheticText(bytes: number, seed: number): string {
  let state = seed >>> 0 || 1;
  const rand = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
  const parts: string[] = [];
  let size = 0;
  let section = 0;
  for (;;) {
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
    const cost = Buffer.byteLength(block) + 2;
    if (size + cost > bytes) break;
    parts.push(block);
    size += cost;
  }
  return parts.join('\n\n');
}

export interface CorpusDocument {
  name: string;
  bytes: Buffer;
  /** text documents go through POST /v1/documents/text, the rest as multipart files */
  text?: string;
}

/**
 * The sample documents shipped with the pipeline (every type, Korean and English; the
 * deliberately broken PDFs left out), `copies` times each, plus `generated` longer texts
 * of 20–200 KB. Copies are byte-identical, so uploads use ?force=true.
 */
export function ingestCorpus(copies: number, generated: number): CorpusDocument[] {
  const samples = readdirSync(FIXTURES_DIR)
    .filter((name) => name.startsWith('sample-'))
    .sort()
    .map((name) => ({ name, bytes: readFileSync(join(FIXTURES_DIR, name)) }));
  const docs: CorpusDocument[] = [];
  for (let copy = 0; copy < copies; copy++) {
    for (const sample of samples) docs.push({ name: sample.name, bytes: sample.bytes });
  }
  for (let i = 0; i < generated; i++) {
    const size = 20 * 1024 + Math.round((((i * 7919) % generated) / generated) * 180 * 1024);
    const text = syntheticText(size, 1000 + i);
    docs.push({ name: `generated-${i}`, bytes: Buffer.from(text, 'utf8'), text });
  }
  return docs;
}
