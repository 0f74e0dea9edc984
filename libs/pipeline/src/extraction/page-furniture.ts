/*
 * Page furniture: what a typeset PDF prints around its text rather than as part of it.
 * Running headers and footers and page numbers repeat on most pages, a table of contents
 * lists titles with dot leaders and page numbers, and justified text breaks words with a
 * hyphen at the end of a line. Left in, they become chunks that match every query and
 * words no query finds. Every check is a linear scan over lines and characters.
 */

/** Lines at each edge of a page where running headers and footers sit. */
const EDGE_LINES = 3;
/** Running lines are only told apart from text on documents with at least this many pages. */
const MIN_PAGES = 3;
/** A line shape at one edge of this share of the pages is furniture (alternating left
 * and right page headers each reach a half). */
const RUNNING_SHARE = 0.4;
/** Longer lines are text, even when they repeat. */
const MAX_RUNNING_LENGTH = 150;
/** Fewer dot-leader lines than this in a document are not a table of contents. */
const MIN_TOC_LINES = 3;
const MIN_LEADER_DOTS = 4;

const PAGE_WORDS = new Set(['page', 'p.', 'pg.', 'pp.', 'of', '/', '쪽', '페이지']);
const CONTENTS_TITLES = new Set(['contents', 'table of contents', 'content', '목차', '차례']);
const PAGE_NUMBER_SHAPE = '#page';
/** Words that open a running header naming the current part ("Chapter 3: Recovery"). */
const RUNNING_LEADS = new Set(['chapter', 'chap.', 'part', 'appendix', 'book', 'volume']);
const LOWERCASE = /^\p{Ll}$/u;
/** A line this close to the page's longest that stops mid-sentence was wrapped. */
const WRAPPED_SHARE = 0.6;
const SENTENCE_ENDS = '.!?:;。！？…"”’)';

/**
 * The pages' text without running headers and footers, page numbers and dot-leader
 * table-of-contents lines, with words hyphenated across a line break joined again
 * (only a lowercase letter, `-`, a line break and a lowercase letter) and lines the
 * typesetter wrapped mid-sentence made one again, so the chunker cuts between sentences
 * rather than in the middle of one. Short lines (headings, list items) keep their breaks.
 * Pages are normalised text as extracted, lines separated by `\n`; one string comes back
 * per page.
 */
export function removePageFurniture(pages: readonly string[]): string[] {
  const lines = pages.map((page) => page.split('\n'));
  const top = runningShapes(lines, (page) => edgeIndexes(page, 'top'));
  const bottom = runningShapes(lines, (page) => edgeIndexes(page, 'bottom'));
  const tocLines = lines.reduce((n, page) => n + page.filter(isTocLine).length, 0);
  return lines.map((page) => {
    const drop = new Set<number>();
    // From each edge inwards, up to the first line of text.
    for (const i of edgeIndexes(page, 'top')) {
      if (!isRunning(page[i], top)) break;
      drop.add(i);
    }
    for (const i of edgeIndexes(page, 'bottom')) {
      if (!isRunning(page[i], bottom)) break;
      drop.add(i);
    }
    // A page made only of repeated lines is the text itself (every page alike), not furniture.
    if (page.every((line, i) => drop.has(i) || line.trim().length === 0)) drop.clear();
    if (tocLines >= MIN_TOC_LINES) for (const i of tocRun(page)) drop.add(i);
    const kept = page.filter((_, i) => !drop.has(i));
    return joinHyphenated(unwrapLines(kept))
      .replace(/\n{3,}/g, '\n\n')
      .trim();
  });
}

/** Indexes of the first (or last) non-empty lines of a page. */
function edgeIndexes(page: readonly string[], edge: 'top' | 'bottom'): number[] {
  const found: number[] = [];
  const step = edge === 'top' ? 1 : -1;
  for (let i = edge === 'top' ? 0 : page.length - 1; i >= 0 && i < page.length; i += step) {
    if (page[i].trim().length > 0) found.push(i);
    if (found.length === EDGE_LINES) break;
  }
  return found;
}

/** Shapes found at one edge of enough pages to be running headers or footers. */
function runningShapes(
  pages: readonly string[][],
  edge: (page: readonly string[]) => number[],
): Set<string> {
  const running = new Set<string>();
  if (pages.length < MIN_PAGES) return running;
  const pagesWith = new Map<string, number>();
  for (const page of pages) {
    const shapes = new Set(
      edge(page)
        .filter((i) => page[i].length <= MAX_RUNNING_LENGTH)
        .flatMap((i) => keysOf(page[i])),
    );
    for (const shape of shapes) pagesWith.set(shape, (pagesWith.get(shape) ?? 0) + 1);
  }
  const needed = Math.max(MIN_PAGES, Math.ceil(pages.length * RUNNING_SHARE));
  for (const [shape, count] of pagesWith) if (count >= needed) running.add(shape);
  return running;
}

function isRunning(line: string, running: ReadonlySet<string>): boolean {
  return line.length <= MAX_RUNNING_LENGTH && keysOf(line).some((key) => running.has(key));
}

/**
 * The line's shape and, for a chapter-like lead, the lead alone: "Chapter 3: Recovery"
 * and "Chapter 4: Upgrades" are the same running header.
 */
function keysOf(line: string): string[] {
  const shape = shapeOf(line);
  const lead = shape.split(' ', 1)[0];
  return RUNNING_LEADS.has(lead) && shape.startsWith(`${lead} #`) ? [shape, `${lead} #…`] : [shape];
}

/**
 * A line with its numbers blanked, since they change from page to page ("Page 3 of 10",
 * "Chapter 3"); every kind of bare page number has one shape.
 */
function shapeOf(line: string): string {
  const text = line.trim().toLowerCase();
  if (isPageNumber(text)) return PAGE_NUMBER_SHAPE;
  let shape = '';
  let inNumber = false;
  for (const ch of text) {
    const digit = ch >= '0' && ch <= '9';
    if (!digit) shape += ch;
    else if (!inNumber) shape += '#';
    inNumber = digit;
  }
  return shape;
}

/** "7", "- 7 -", "[7]", "vii", "Page 7", "Page 7 of 10", "7 / 10", "7쪽". */
function isPageNumber(text: string): boolean {
  let spaced = '';
  for (const ch of text) spaced += '-–—[]()|·•'.includes(ch) ? ' ' : ch === '/' ? ' / ' : ch;
  const tokens = spaced
    .split(' ')
    .map((t) => (t.endsWith('쪽') && t.length > 1 ? t.slice(0, -1) : t))
    .filter((t) => t.length > 0 && !PAGE_WORDS.has(t));
  return tokens.length >= 1 && tokens.length <= 2 && tokens.every(isNumberToken);
}

function isNumberToken(token: string): boolean {
  if (token.length > 8) return false;
  let digits = true;
  let roman = true;
  for (const ch of token) {
    digits &&= ch >= '0' && ch <= '9';
    roman &&= 'ivxlcdm'.includes(ch);
  }
  return digits || roman;
}

/** "7.2 What is the format . . . . . 41": a title, a dot leader, then a page number. */
function isTocLine(line: string): boolean {
  let i = line.length - 1;
  while (i >= 0 && line[i] === ' ') i--;
  const numberEnd = i;
  while (i >= 0 && /[0-9ivxlcdm]/i.test(line[i])) i--;
  if (i === numberEnd || numberEnd - i > 8) return false;
  let dots = 0;
  for (; i >= 0; i--) {
    const ch = line[i];
    if (ch === '.' || ch === '·') dots++;
    else if (ch === '…') dots += 3;
    else if (ch !== ' ') break;
  }
  return dots >= MIN_LEADER_DOTS && i >= 0;
}

/**
 * A page's table-of-contents lines: dot-leader lines, a short line wrapped between two
 * of them (a long title), and a "Contents" title just above the first.
 */
function tocRun(page: readonly string[]): number[] {
  const toc = page.map(isTocLine);
  const found: number[] = [];
  let first = -1;
  let last = -1;
  toc.forEach((isToc, i) => {
    if (!isToc) return;
    if (first < 0) first = i;
    // one wrapped title line between two entries
    if (last >= 0 && i - last === 2 && page[last + 1].length <= 100) found.push(last + 1);
    found.push(i);
    last = i;
  });
  if (first > 0) {
    let above = first - 1;
    while (above > 0 && page[above].trim().length === 0) above--;
    if (CONTENTS_TITLES.has(page[above].trim().toLowerCase())) found.push(above);
  }
  return found;
}

/** "recon-\nciler" → "reconciler"; "Jean-\nPaul" and "2-\n3" stay as they are. */
function joinHyphenated(text: string): string {
  let out = '';
  let from = 0;
  for (let i = text.indexOf('-\n'); i >= 0; i = text.indexOf('-\n', i + 2)) {
    if (i > 0 && LOWERCASE.test(text[i - 1]) && LOWERCASE.test(text[i + 2] ?? '')) {
      out += text.slice(from, i);
      from = i + 2;
    }
  }
  return out + text.slice(from);
}

/** Joins each long line that ends mid-sentence to the next line with a space. */
function unwrapLines(lines: readonly string[]): string {
  const longest = lines.reduce((max, line) => Math.max(max, line.length), 0);
  let out = '';
  lines.forEach((line, i) => {
    out += line;
    if (i === lines.length - 1) return;
    const next = lines[i + 1];
    const wrapped =
      line.length >= longest * WRAPPED_SHARE &&
      next.trim().length > 0 &&
      // a hyphen is joinHyphenated's to judge
      !`${SENTENCE_ENDS}-`.includes(line[line.length - 1] ?? '.');
    out += wrapped ? ' ' : '\n';
  });
  return out;
}
