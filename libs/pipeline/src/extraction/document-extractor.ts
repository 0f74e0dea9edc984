import { NoExtractableTextError } from '../pipeline-errors';
import type { ExtractedDocument, PageSpan } from './extracted-document';
import { htmlToText } from './html-extractor';
import { removePageFurniture } from './page-furniture';
import { ExtractionThread, type ExtractionThreadOptions } from './extraction-thread';
import { decodeText, normaliseText } from './text-decoder';
import {
  detectType,
  MIME_DOCX,
  MIME_HTML,
  MIME_MARKDOWN,
  MIME_PDF,
  MIME_TEXT,
  type SupportedMimeType,
  type TypeHints,
} from './type-detector';

export type DocumentExtractorOptions = ExtractionThreadOptions;

export interface ExtractOptions extends TypeHints {
  /** Skip sniffing when the type was already detected (e.g. at upload). */
  mimeType?: SupportedMimeType;
}

/**
 * Bytes in, `ExtractedDocument` out, for every supported type. PDF and DOCX are parsed
 * in a worker thread it owns, so one instance is shared per process and closed on
 * shutdown.
 */
export class DocumentExtractor {
  private readonly thread: ExtractionThread;

  constructor(options: DocumentExtractorOptions = {}) {
    this.thread = new ExtractionThread(options);
  }

  async extract(bytes: Uint8Array, options: ExtractOptions = {}): Promise<ExtractedDocument> {
    const mimeType = options.mimeType ?? detectType(bytes, options);
    const doc = await this.extractAs(mimeType, bytes);
    if (doc.text.trim().length === 0) {
      throw new NoExtractableTextError(
        mimeType === MIME_PDF
          ? 'No text could be extracted from this PDF. It may be a scan or contain only images; text recognition (OCR) is not supported.'
          : 'This document contains no text to index.',
      );
    }
    return doc;
  }

  close(): Promise<void> {
    return this.thread.close();
  }

  private async extractAs(
    mimeType: SupportedMimeType,
    bytes: Uint8Array,
  ): Promise<ExtractedDocument> {
    switch (mimeType) {
      case MIME_PDF: {
        const { title, pages } = await this.thread.pdf(bytes);
        return { mimeType, title, ...joinPages(pages) };
      }
      case MIME_DOCX: {
        const { text, title } = htmlToText(await this.thread.docxHtml(bytes));
        return { mimeType, title, text, pages: [] };
      }
      case MIME_HTML: {
        const decoded = decodeText(bytes);
        const { text, title } = htmlToText(decoded.text);
        return { mimeType, title, text, pages: [], encoding: decoded.encoding };
      }
      case MIME_MARKDOWN:
      case MIME_TEXT: {
        const decoded = decodeText(bytes);
        const text = trimEnd(decoded.text);
        const title = mimeType === MIME_MARKDOWN ? markdownTitle(text) : firstLineTitle(text);
        return { mimeType, title, text, pages: [], encoding: decoded.encoding };
      }
      default: {
        const unreachable: never = mimeType;
        throw new Error(`Unhandled type ${String(unreachable)}`);
      }
    }
  }
}

/** Pages without their furniture, joined by a blank line; each page's span excludes the separator. */
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

function trimEnd(text: string): string {
  return text.replace(/\s+$/, '');
}

function markdownTitle(text: string): string | undefined {
  const atx = /^#{1,6}[ \t]+(.+?)[ \t#]*$/m.exec(text);
  if (atx) return atx[1].trim();
  const setext = /^([^\n]+)\n=+[ \t]*$/m.exec(text);
  return setext ? setext[1].trim() : firstLineTitle(text);
}

function firstLineTitle(text: string): string | undefined {
  const line = text.trimStart().split('\n', 1)[0]?.trim();
  return line && line.length <= 120 ? line : undefined;
}
