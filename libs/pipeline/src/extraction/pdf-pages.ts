import type { PageSpan } from './extracted-document';
import { removePageFurniture } from './page-furniture';
import { normaliseText } from './text-decoder';

/**
 * The one place where a PDF's per-page texts become the document's text. Pages lose their
 * furniture (running headers and footers, page numbers, dot-leader TOC lines) and are
 * joined by a blank line; each page's span excludes the separator.
 */
export function joinPages(rawPages: string[]): { text: string; pages: PageSpan[] } {
  const pages: PageSpan[] = [];
  const parts: string[] = [];
  let offset = 0;
  removePageFurniture(rawPages.map(cleanPdfPage)).forEach((pageText, i) => {
    if (offset > 0 && pageText.length > 0) {
      parts.push('\n\n');
      offset += 2;
    }
    pages.push({ page: i + 1, charStart: offset, charEnd: offset + pageText.length });
    parts.push(pageText);
    offset += pageText.length;
  });
  return { text: parts.join(''), pages };
}

function cleanPdfPage(raw: string): string {
  return normaliseText(raw)
    .replace(/[^\S\n]+/g, ' ')
    .replace(/ ?\n ?/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
