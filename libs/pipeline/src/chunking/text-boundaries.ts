/*
 * Where a string may be cut without damaging a character: never between the halves of
 * a surrogate pair, before a combining mark or variation selector, around a zero-width
 * joiner, or inside a Hangul syllable written as conjoining jamo (L V T sequences that
 * NFC could not compose, e.g. Old Hangul).
 */

const MARK = /^\p{M}$/u;

function attachesToPrevious(cp: number): boolean {
  return (
    cp === 0x200d ||
    (cp >= 0xfe00 && cp <= 0xfe0f) ||
    (cp >= 0xe0100 && cp <= 0xe01ef) ||
    (cp >= 0x1f3fb && cp <= 0x1f3ff) ||
    MARK.test(String.fromCodePoint(cp))
  );
}

const enum Jamo {
  None,
  L,
  V,
  T,
  LV,
  LVT,
}

function jamoKind(c: number): Jamo {
  if ((c >= 0x1100 && c <= 0x115f) || (c >= 0xa960 && c <= 0xa97f)) return Jamo.L;
  if ((c >= 0x1160 && c <= 0x11a7) || (c >= 0xd7b0 && c <= 0xd7c6)) return Jamo.V;
  if ((c >= 0x11a8 && c <= 0x11ff) || (c >= 0xd7cb && c <= 0xd7fb)) return Jamo.T;
  if (c >= 0xac00 && c <= 0xd7a3) return (c - 0xac00) % 28 === 0 ? Jamo.LV : Jamo.LVT;
  return Jamo.None;
}

export function isSafeBoundary(text: string, i: number): boolean {
  if (i <= 0 || i >= text.length) return true;
  const prev = text.charCodeAt(i - 1);
  const cur = text.charCodeAt(i);
  if (cur >= 0xdc00 && cur <= 0xdfff && prev >= 0xd800 && prev <= 0xdbff) return false;
  if (prev === 0x200d) return false;
  if (cur >= 0x0300 && attachesToPrevious(text.codePointAt(i) ?? cur)) return false;
  const a = jamoKind(prev);
  if (a === Jamo.None) return true;
  const b = jamoKind(cur);
  if (b === Jamo.None) return true;
  if (a === Jamo.L) return b === Jamo.T;
  if (a === Jamo.V || a === Jamo.LV) return b !== Jamo.V && b !== Jamo.T;
  return b !== Jamo.T;
}

/** The nearest safe cut at or before `i`, but not before `min` (then the nearest after). */
export function safeBoundaryAtOrBefore(text: string, i: number, min: number): number {
  let p = i;
  while (p > min && !isSafeBoundary(text, p)) p--;
  if (p > min) return p;
  return safeBoundaryAtOrAfter(text, i);
}

export function safeBoundaryAtOrAfter(text: string, i: number): number {
  let p = i;
  while (p < text.length && !isSafeBoundary(text, p)) p++;
  return p;
}

/**
 * Rough token count for budgeting requests to an embedding model: about four characters
 * per token for Latin, Greek and Cyrillic text, about one per character for Hangul, CJK
 * and other scripts that tokenisers split finely.
 */
export function estimateTokens(text: string): number {
  let narrow = 0;
  let wide = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x0800) narrow++;
    else if (c < 0xdc00 || c > 0xdfff) wide++;
  }
  return text.length === 0 ? 0 : Math.max(1, Math.ceil(narrow / 4 + wide));
}
