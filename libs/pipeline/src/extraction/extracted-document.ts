import type { TextEncoding } from './text-decoder';
import type { SupportedMimeType } from './type-detector';

/** Where one PDF page sits in `ExtractedDocument.text` (`charEnd` exclusive). */
export interface PageSpan {
  page: number;
  charStart: number;
  charEnd: number;
}

/**
 * One document as plain text. Headings are written Markdown-style (`# `, `## `) whatever
 * the source format, so the chunker splits every format on the same structure. Chunk
 * offsets point into `text`, and `pages` maps those offsets back to PDF pages.
 */
export interface ExtractedDocument {
  mimeType: SupportedMimeType;
  title?: string;
  text: string;
  /** PDF only, in page order; pages are separated by a blank line in `text`. */
  pages: PageSpan[];
  /** For text formats: the encoding the bytes were decoded from. */
  encoding?: TextEncoding;
}
