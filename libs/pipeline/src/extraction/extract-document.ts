import {
  CorruptDocumentError,
  EncryptedDocumentError,
  NoExtractableTextError,
  PipelineError,
} from '../pipeline-errors';
import { checkDocxArchive } from './docx-archive';
import type { ExtractedDocument } from './extracted-document';
import { limitExceeded, tooManyChars, type ExtractionLimits } from './extraction-limits';
import { htmlToText } from './html-extractor';
import { joinPages } from './pdf-pages';
import { decodeText } from './text-decoder';
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

export interface ExtractOptions extends TypeHints {
  /** Skip sniffing when the type was already detected (e.g. at upload). */
  mimeType?: SupportedMimeType;
}

/**
 * Bytes in, `ExtractedDocument` out, for every supported type, within `limits`. This is
 * what the extraction threads run (see extraction-pool.ts); it never runs on the event
 * loop of a server process.
 */
export async function extractDocument(
  bytes: Uint8Array,
  options: ExtractOptions,
  limits: ExtractionLimits,
): Promise<ExtractedDocument> {
  const mimeType = options.mimeType ?? detectType(bytes, options);
  const doc = await extractAs(mimeType, bytes, limits);
  if (doc.text.length > limits.maxChars) throw tooManyChars(limits);
  if (doc.text.trim().length === 0) {
    throw new NoExtractableTextError(
      mimeType === MIME_PDF
        ? 'No text could be extracted from this PDF. It may be a scan or contain only images; text recognition (OCR) is not supported.'
        : 'This document contains no text to index.',
    );
  }
  return doc;
}

async function extractAs(
  mimeType: SupportedMimeType,
  bytes: Uint8Array,
  limits: ExtractionLimits,
): Promise<ExtractedDocument> {
  switch (mimeType) {
    case MIME_PDF: {
      const { title, pages } = await pdfPages(bytes, limits);
      return { mimeType, title, ...joinPages(pages) };
    }
    case MIME_DOCX: {
      const { text, title } = htmlToText(await docxHtml(bytes, limits));
      return { mimeType, title, text, pages: [] };
    }
    case MIME_HTML: {
      const decoded = decodeText(bytes);
      const { text, title } = htmlToText(decoded.text);
      return { mimeType, title, text, pages: [], encoding: decoded.encoding };
    }
    case MIME_MARKDOWN:
    case MIME_TEXT: {
      // No encoding spends more than four bytes on a character: past this, the text is
      // certainly too long, and decoding it would only cost memory.
      if (Math.floor(bytes.length / 4) > limits.maxChars) throw tooManyChars(limits);
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

type Unpdf = typeof import('unpdf');
type Mammoth = typeof import('mammoth');
let unpdf: Unpdf | undefined;
let mammoth: Mammoth | undefined;

/** Raw text of each page, page 1 first; stops as soon as a cap is passed. */
async function pdfPages(
  bytes: Uint8Array,
  limits: ExtractionLimits,
): Promise<{ title?: string; pages: string[] }> {
  // Loaded on first use: a thread that only ever reads text never pays for PDF.js.
  unpdf ??= require('unpdf') as Unpdf;
  try {
    const doc = await unpdf.getDocumentProxy(bytes, { verbosity: 0 });
    try {
      if (doc.numPages > limits.maxPages) {
        throw limitExceeded(
          'EXTRACT_MAX_PAGES',
          `its page count (${doc.numPages})`,
          `${limits.maxPages} pages`,
        );
      }
      let title: string | undefined;
      try {
        const meta = (await doc.getMetadata()) as { info?: { Title?: unknown } };
        if (typeof meta.info?.Title === 'string') title = meta.info.Title.trim() || undefined;
      } catch {
        // A PDF without readable metadata still has text.
      }
      const pages: string[] = [];
      let chars = 0;
      for (let n = 1; n <= doc.numPages; n++) {
        const page = await doc.getPage(n);
        const content = await page.getTextContent();
        let text = '';
        for (const item of content.items) {
          if (!('str' in item)) continue;
          text += item.str + (item.hasEOL ? '\n' : '');
        }
        page.cleanup();
        chars += text.length;
        if (chars > limits.maxChars) throw tooManyChars(limits);
        pages.push(text);
      }
      return { title, pages };
    } finally {
      await doc.loadingTask.destroy().catch(() => undefined);
    }
  } catch (err) {
    throw classifyPdfError(err);
  }
}

function classifyPdfError(err: unknown): PipelineError {
  if (err instanceof PipelineError) return err;
  const name = (err as { name?: string } | undefined)?.name ?? 'Error';
  const message = (err as { message?: string } | undefined)?.message ?? String(err);
  if (name === 'PasswordException' || /password/i.test(message)) {
    return new EncryptedDocumentError(
      'This PDF is password-protected, so its text cannot be read. Remove the password and upload it again.',
    );
  }
  return new CorruptDocumentError(
    `This PDF could not be read: the file is damaged or is not a valid PDF (${message || name}).`,
  );
}

/** The DOCX as mammoth's semantic HTML (Word heading styles become h1–h6). */
async function docxHtml(bytes: Uint8Array, limits: ExtractionLimits): Promise<string> {
  checkDocxArchive(bytes, limits);
  mammoth ??= require('mammoth') as Mammoth;
  try {
    const result = await mammoth.convertToHtml(
      { buffer: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) },
      {
        // Images carry no text; skip decoding them into base64 data URIs.
        convertImage: mammoth.images.imgElement(() => Promise.resolve({ src: '' })),
        // An uploaded document must never make the server read files it links to.
        externalFileAccess: false,
      } as Parameters<Mammoth['convertToHtml']>[1],
    );
    return result.value;
  } catch {
    throw new CorruptDocumentError(
      'This Word document (DOCX) could not be read: the file is damaged or not a real DOCX. Save it again from Word and upload it once more.',
    );
  }
}

function isSpace(code: number): boolean {
  return (
    code === 0x20 ||
    (code >= 0x09 && code <= 0x0d) ||
    code === 0xa0 ||
    code === 0xfeff ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000
  );
}

/** `String.prototype.trimEnd`'s whitespace, scanned once from the end. */
function trimEnd(text: string): string {
  let end = text.length;
  while (end > 0 && isSpace(text.charCodeAt(end - 1))) end--;
  return end === text.length ? text : text.slice(0, end);
}

/**
 * The first ATX heading (`# Title`), else the first setext heading (`Title` over `===`),
 * else the first line. Line by line, each line read once.
 */
export function markdownTitle(text: string): string | undefined {
  const lines = text.split('\n');
  for (const line of lines) {
    const heading = atxHeading(line);
    if (heading !== undefined) return heading;
  }
  for (let i = 0; i + 1 < lines.length; i++) {
    if (lines[i].length > 0 && isSetextRule(lines[i + 1])) return lines[i].trim();
  }
  return firstLineTitle(text);
}

/** `#{1,6}`, a space or tab, the text, then optional closing `#`s and blanks. */
function atxHeading(line: string): string | undefined {
  let level = 0;
  while (level < line.length && line[level] === '#') level++;
  if (level < 1 || level > 6) return undefined;
  let start = level;
  while (start < line.length && (line[start] === ' ' || line[start] === '\t')) start++;
  if (start === level || start >= line.length) return undefined;
  let end = line.length;
  while (end > start + 1 && ' \t#'.includes(line[end - 1])) end--;
  return line.slice(start, end).trim();
}

/** `=+` then optional blanks. */
function isSetextRule(line: string): boolean {
  let i = 0;
  while (i < line.length && line[i] === '=') i++;
  if (i === 0) return false;
  while (i < line.length && (line[i] === ' ' || line[i] === '\t')) i++;
  return i === line.length;
}

function firstLineTitle(text: string): string | undefined {
  const line = text.trimStart().split('\n', 1)[0]?.trim();
  return line && line.length <= 120 ? line : undefined;
}
