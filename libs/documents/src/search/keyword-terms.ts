import type { Highlight } from './search.types';

/**
 * Korean particles and endings that attach to a word without a space (데비안은, 데비안을,
 * 서울에서). Longest first, so 에서 wins over 서. Stripping one only widens a match:
 * the stem is matched as a prefix, so the original word still matches.
 */
const KOREAN_PARTICLES = [
  '으로부터',
  '에서부터',
  '이라는',
  '이라고',
  '에서는',
  '에서도',
  '에게서',
  '으로는',
  '으로도',
  '께서는',
  '한테서',
  '로부터',
  '이었다',
  '에서',
  '에게',
  '한테',
  '께서',
  '으로',
  '부터',
  '까지',
  '마다',
  '조차',
  '처럼',
  '보다',
  '라는',
  '라고',
  '이나',
  '이며',
  '이고',
  '이다',
  '이랑',
  '은',
  '는',
  '이',
  '가',
  '을',
  '를',
  '의',
  '에',
  '로',
  '와',
  '과',
  '도',
  '만',
  '랑',
];

const HANGUL = /^[\uac00-\ud7a3]+$/;
const WORD = /[\p{L}\p{N}]+/gu;
/** more terms than this add cost and nothing to ranking */
const MAX_TERMS = 12;

export interface KeywordTerm {
  /** the word as typed, lower-cased */
  word: string;
  /** what is matched: the word without its particle (Korean) or plural ending (English) */
  stem: string;
}

function stemOf(word: string): string {
  if (HANGUL.test(word)) {
    for (const particle of KOREAN_PARTICLES) {
      if (word.length - particle.length >= 2 && word.endsWith(particle)) {
        return word.slice(0, -particle.length);
      }
    }
    return word;
  }
  // 'simple' does no stemming: a plural should still find the singular.
  if (/^[a-z]{4,}$/.test(word)) {
    if (word.endsWith('ies')) return `${word.slice(0, -3)}y`;
    if (word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  }
  return word;
}

/**
 * English function words: the `simple` configuration keeps them, and as prefixes (the:*)
 * they would match most chunks. Dropped unless the query holds nothing else.
 */
const STOP_WORDS = new Set(
  'a an and are as at be by do does for from how in is it of on or that the this to was were what when where which who why with'.split(
    ' ',
  ),
);

/** The words of a query, each with the stem a chunk must start a word with. */
export function keywordTerms(query: string): KeywordTerm[] {
  const words = [...query.toLowerCase().normalize('NFC').matchAll(WORD)].map((m) => m[0]);
  const content = words.filter((w) => !STOP_WORDS.has(w));
  const seen = new Set<string>();
  const terms: KeywordTerm[] = [];
  for (const word of content.length > 0 ? content : words) {
    const stem = stemOf(word);
    if (seen.has(stem)) continue;
    seen.add(stem);
    terms.push({ word, stem });
    if (terms.length === MAX_TERMS) break;
  }
  return terms;
}

/**
 * The tsquery (as a `::tsquery` literal) one term matches. A Korean stem is a word
 * prefix (데비안:* finds 데비안은, 데비안을): particles are written onto the word. Other
 * words match exactly, as typed or as their stem, because a short Latin prefix (con:*)
 * matches far too much to rank quickly. Terms hold letters and digits only, so nothing
 * needs quoting.
 */
export function termTsquery({ word, stem }: KeywordTerm): string {
  if (HANGUL_SYLLABLE.test(stem) || !LATIN_OR_DIGITS.test(stem)) return `${stem}:*`;
  return stem === word ? word : `(${word} | ${stem})`;
}

const HANGUL_SYLLABLE = /[\uac00-\ud7a3]/;
const LATIN_OR_DIGITS = /^[\p{Script=Latin}\p{N}]+$/u;

/** `%stem%` for ILIKE, with LIKE's wildcards escaped. */
export function containsPattern(stem: string): string {
  return `%${stem.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * Whether the Hangul trigram index (over `chunks.text_hangul`, the Hangul runs of each
 * chunk) serves `LIKE '%stem%'` for this stem: Hangul syllables only, since nothing else
 * is indexed, and three or more of them, since a shorter stem has no trigram and would
 * turn the condition into a sequential scan.
 */
export function trigramIndexable(stem: string): boolean {
  return HANGUL.test(stem) && [...stem].length >= 3;
}

/** Where each term's stem occurs in `text` (case-insensitive), merged and in order. */
export function highlightsOf(text: string, terms: readonly KeywordTerm[], max = 32): Highlight[] {
  if (terms.length === 0) return [];
  const lower = text.toLowerCase();
  // toLowerCase keeps UTF-16 length for the scripts we search; offsets refer to `text`.
  if (lower.length !== text.length) return [];
  const ranges: Highlight[] = [];
  for (const { stem } of terms) {
    let from = 0;
    for (;;) {
      const at = lower.indexOf(stem, from);
      if (at < 0) break;
      ranges.push({ start: at, end: at + stem.length });
      from = at + stem.length;
      if (ranges.length > max * 4) break;
    }
  }
  ranges.sort((a, b) => a.start - b.start || b.end - a.end);
  const merged: Highlight[] = [];
  for (const range of ranges) {
    const last = merged[merged.length - 1];
    if (last && range.start <= last.end) last.end = Math.max(last.end, range.end);
    else merged.push({ ...range });
    if (merged.length > max) break;
  }
  return merged.slice(0, max);
}
