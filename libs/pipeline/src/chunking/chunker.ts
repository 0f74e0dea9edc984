import type { ExtractedDocument, PageSpan } from '../extraction/extracted-document';
import { limitExceeded } from '../extraction/extraction-limits';
import { estimateTokens, safeBoundaryAtOrAfter, safeBoundaryAtOrBefore } from './text-boundaries';

/** `CHUNK_SIZE` default, in UTF-16 code units (one per Hangul syllable or Latin letter). */
export const DEFAULT_CHUNK_SIZE = 1000;
/** `CHUNK_OVERLAP` default: enough to carry a sentence or two across a cut. */
export const DEFAULT_CHUNK_OVERLAP = 150;
/** `EXTRACT_MAX_CHUNKS` default: chunks (and so points) one document may produce. */
export const DEFAULT_MAX_CHUNKS = 10_000;

export interface ChunkOptions {
  chunkSize?: number;
  chunkOverlap?: number;
  /** More chunks than this fail the document (`EXTRACT_MAX_CHUNKS`). */
  maxChunks?: number;
}

export interface Chunk {
  ordinal: number;
  /** Exactly `fullText.slice(charStart, charEnd)`: whitespace at the edges is trimmed off. */
  text: string;
  charStart: number;
  charEnd: number;
  /** PDF page holding the chunk's first character (1-based). */
  page?: number;
  /** PDF page holding its last character, when the chunk runs across pages. */
  pageEnd?: number;
  tokenCount: number;
}

/**
 * Splitters from the strongest structure to the weakest. Each returns cut positions;
 * the text between two cuts is a piece, and separators stay attached to the piece on
 * their left so that pieces tile the text without gaps.
 */
const enum Level {
  Section = 0,
  Paragraph,
  Line,
  Sentence,
  Word,
  Character,
}

const SECTION = /\n(?=#{1,6}[ \t])/g;
const PARAGRAPH = /\n[ \t]*\n\s*/g;
const LINE = /\n/g;
// Latin and Korean sentence ends (`다.`, `요?`) followed by space, and CJK full-width
// punctuation, which needs no space after it.
const SENTENCE = /[.!?…][)"'”’»\]]*\s+|[。！？．][)"'”’」』》〉\]]*\s*/g;
const WORD = /\s+/g;

interface Atom {
  start: number;
  end: number;
  /** The level of the cut this atom starts at; `Section` marks a heading or a new page. */
  cut: Level;
}

export class Chunker {
  readonly chunkSize: number;
  readonly chunkOverlap: number;
  readonly maxChunks: number;

  constructor(options: ChunkOptions = {}) {
    this.chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    this.chunkOverlap = options.chunkOverlap ?? DEFAULT_CHUNK_OVERLAP;
    this.maxChunks = options.maxChunks ?? DEFAULT_MAX_CHUNKS;
    if (!Number.isInteger(this.chunkSize) || this.chunkSize < 20) {
      throw new RangeError(
        `CHUNK_SIZE (chunkSize) must be an integer of at least 20 (got ${this.chunkSize})`,
      );
    }
    if (
      !Number.isInteger(this.chunkOverlap) ||
      this.chunkOverlap < 0 ||
      this.chunkOverlap > this.chunkSize / 2
    ) {
      throw new RangeError(
        `CHUNK_OVERLAP (chunkOverlap) must be an integer between 0 and half of CHUNK_SIZE (got ${this.chunkOverlap} with a size of ${this.chunkSize})`,
      );
    }
  }

  chunkDocument(doc: Pick<ExtractedDocument, 'text' | 'pages'>): Chunk[] {
    return this.chunk(doc.text, doc.pages);
  }

  /** Deterministic; linear in the length of `text`. */
  chunk(text: string, pages: readonly PageSpan[] = []): Chunk[] {
    if (text.length === 0) return [];
    const pageStarts = pages.map((p) => p.charStart).filter((s) => s > 0);
    const atoms: Atom[] = [];
    this.split(text, 0, text.length, Level.Section, Level.Section, pageStarts, atoms);
    return this.merge(text, atoms, pages);
  }

  private split(
    text: string,
    start: number,
    end: number,
    level: Level,
    cutLevel: Level,
    pageStarts: readonly number[],
    out: Atom[],
  ): void {
    if (end - start <= this.chunkSize) {
      out.push({ start, end, cut: cutLevel });
      return;
    }
    if (level === Level.Character) {
      let pos = start;
      while (end - pos > this.chunkSize) {
        const cut = safeBoundaryAtOrBefore(text, pos + this.chunkSize, pos);
        out.push({ start: pos, end: cut, cut: pos === start ? cutLevel : Level.Character });
        pos = cut;
      }
      if (pos < end) out.push({ start: pos, end, cut: Level.Character });
      return;
    }
    const cuts = findCuts(text, start, end, level, pageStarts);
    if (cuts.length === 0) {
      this.split(text, start, end, level + 1, cutLevel, pageStarts, out);
      return;
    }
    let pieceStart = start;
    for (let i = 0; i <= cuts.length; i++) {
      const pieceEnd = i < cuts.length ? cuts[i] : end;
      if (pieceEnd > pieceStart) {
        this.split(
          text,
          pieceStart,
          pieceEnd,
          level + 1,
          i === 0 ? cutLevel : level,
          pageStarts,
          out,
        );
      }
      pieceStart = pieceEnd;
    }
  }

  private merge(text: string, atoms: Atom[], pages: readonly PageSpan[]): Chunk[] {
    const chunks: Chunk[] = [];
    const size = this.chunkSize;
    let i = 0;
    let chunkStart = atoms[0].start;
    while (i < atoms.length) {
      // Always take the first atom (it fits: atoms are at most chunkSize long, and the
      // overlap in front of it was shortened to make room), then as many as fit.
      const first = i;
      let end = atoms[i].end;
      i++;
      while (i < atoms.length && atoms[i].end - chunkStart <= size) {
        // Start a new chunk at a heading or page once this one is reasonably full.
        if (atoms[i].cut === Level.Section && end - chunkStart >= size / 2) break;
        end = atoms[i].end;
        i++;
      }
      // A heading whose text did not fit goes with that text into the next chunk (unless
      // only the overlap and blank lines would be left of this one).
      while (
        i - 1 > first &&
        i < atoms.length &&
        isHeading(text, atoms[i - 1]) &&
        text.slice(atoms[first].start, atoms[i - 2].end).trim().length > 0
      ) {
        i--;
        end = atoms[i - 1].end;
      }
      pushTrimmed(text, chunkStart, end, pages, chunks);
      if (chunks.length > this.maxChunks) {
        throw limitExceeded(
          'EXTRACT_MAX_CHUNKS',
          'the number of chunks',
          `${this.maxChunks.toLocaleString('en-US')} chunks`,
        );
      }
      if (i >= atoms.length) break;
      const next = atoms[i];
      if (this.chunkOverlap === 0 || next.cut === Level.Section) {
        chunkStart = next.start;
        continue;
      }
      const room = size - (next.end - next.start);
      const overlap = Math.min(this.chunkOverlap, room, end - chunkStart - 1);
      chunkStart =
        overlap > 0 ? Math.min(overlapStart(text, end - overlap, end), next.start) : next.start;
    }
    return chunks;
  }
}

/** An atom that is only a Markdown-style heading line (a section longer than a chunk). */
function isHeading(text: string, atom: Atom): boolean {
  if (atom.cut !== Level.Section || text[atom.start] !== '#') return false;
  const lineEnd = text.indexOf('\n', atom.start);
  return lineEnd < 0 || text.slice(lineEnd, atom.end).trim().length === 0;
}

function findCuts(
  text: string,
  start: number,
  end: number,
  level: Level,
  pageStarts: readonly number[],
): number[] {
  // Scan a slice so a search never runs past `end`: keeps each level linear overall.
  const slice = text.slice(start, end);
  const cuts: number[] = [];
  const add = (pos: number) => {
    if (pos > start && pos < end) cuts.push(pos);
  };
  switch (level) {
    case Level.Section: {
      for (const m of slice.matchAll(SECTION)) add(start + m.index + 1);
      for (const p of pageStarts) if (p > start && p < end) cuts.push(p);
      cuts.sort((a, b) => a - b);
      return cuts.filter((c, k) => k === 0 || c !== cuts[k - 1]);
    }
    case Level.Paragraph:
      for (const m of slice.matchAll(PARAGRAPH)) add(start + m.index + m[0].length);
      return cuts;
    case Level.Line:
      for (const m of slice.matchAll(LINE)) add(start + m.index + 1);
      return cuts;
    case Level.Sentence:
      for (const m of slice.matchAll(SENTENCE)) add(start + m.index + m[0].length);
      return cuts;
    case Level.Word:
      for (const m of slice.matchAll(WORD)) add(start + m.index + m[0].length);
      return cuts;
    default:
      return cuts;
  }
}

/**
 * Where the overlap copied from the end of one chunk into the next begins: the first
 * sentence start in the window, else the first word start, else a safe character cut.
 */
function overlapStart(text: string, from: number, end: number): number {
  const window = text.slice(from, end);
  SENTENCE.lastIndex = 0;
  const sentence = SENTENCE.exec(window);
  SENTENCE.lastIndex = 0;
  if (sentence && sentence.index + sentence[0].length < window.length) {
    return from + sentence.index + sentence[0].length;
  }
  if (from > 0 && /\s/.test(text[from - 1])) return from;
  const space = /\s+/.exec(window);
  if (space && space.index + space[0].length < window.length) {
    return from + space.index + space[0].length;
  }
  return safeBoundaryAtOrAfter(text, from);
}

function pushTrimmed(
  text: string,
  start: number,
  end: number,
  pages: readonly PageSpan[],
  out: Chunk[],
): void {
  let s = start;
  let e = end;
  while (s < e && isSpace(text.charCodeAt(s))) s++;
  while (e > s && isSpace(text.charCodeAt(e - 1))) e--;
  if (e === s) return;
  const chunkText = text.slice(s, e);
  const chunk: Chunk = {
    ordinal: out.length,
    text: chunkText,
    charStart: s,
    charEnd: e,
    tokenCount: estimateTokens(chunkText),
  };
  if (pages.length > 0) {
    const first = pageAt(pages, s);
    const last = pageAt(pages, e - 1);
    chunk.page = first;
    if (last !== first) chunk.pageEnd = last;
  }
  out.push(chunk);
}

function isSpace(c: number): boolean {
  return (
    c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d || c === 0x0c || c === 0xa0 || c === 0x3000
  );
}

/** The page whose span contains `offset` (or the last page starting before it). */
function pageAt(pages: readonly PageSpan[], offset: number): number {
  let lo = 0;
  let hi = pages.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (pages[mid].charStart <= offset) lo = mid;
    else hi = mid - 1;
  }
  return pages[lo].page;
}
