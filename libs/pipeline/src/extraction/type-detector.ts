import { UnsupportedTypeError } from '../pipeline-errors';
import { decodeText } from './text-decoder';

export const MIME_PDF = 'application/pdf';
export const MIME_DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
export const MIME_HTML = 'text/html';
export const MIME_MARKDOWN = 'text/markdown';
export const MIME_TEXT = 'text/plain';

export type SupportedMimeType =
  typeof MIME_PDF | typeof MIME_DOCX | typeof MIME_HTML | typeof MIME_MARKDOWN | typeof MIME_TEXT;

export const SUPPORTED_MIME_TYPES: readonly SupportedMimeType[] = [
  MIME_PDF,
  MIME_DOCX,
  MIME_HTML,
  MIME_MARKDOWN,
  MIME_TEXT,
];

export interface TypeHints {
  /** Only used to break a tie between Markdown and plain text. */
  filename?: string;
  /** The client's Content-Type; same limited use as `filename`. */
  declaredType?: string;
}

interface Magic {
  offset: number;
  bytes: number[];
  mime: string;
}

// Binaries people upload by mistake, named so the 415 message can say what was sent.
const KNOWN_BINARIES: Magic[] = [
  { offset: 0, bytes: [0x89, 0x50, 0x4e, 0x47], mime: 'image/png' },
  { offset: 0, bytes: [0xff, 0xd8, 0xff], mime: 'image/jpeg' },
  { offset: 0, bytes: [0x47, 0x49, 0x46, 0x38], mime: 'image/gif' },
  { offset: 8, bytes: [0x57, 0x45, 0x42, 0x50], mime: 'image/webp' },
  { offset: 0, bytes: [0x42, 0x4d], mime: 'image/bmp' },
  { offset: 0, bytes: [0x49, 0x49, 0x2a, 0x00], mime: 'image/tiff' },
  { offset: 0, bytes: [0x4d, 0x4d, 0x00, 0x2a], mime: 'image/tiff' },
  { offset: 0, bytes: [0x4d, 0x5a], mime: 'application/vnd.microsoft.portable-executable' },
  { offset: 0, bytes: [0x7f, 0x45, 0x4c, 0x46], mime: 'application/x-executable' },
  { offset: 0, bytes: [0x1f, 0x8b], mime: 'application/gzip' },
  { offset: 0, bytes: [0x37, 0x7a, 0xbc, 0xaf], mime: 'application/x-7z-compressed' },
  { offset: 0, bytes: [0x52, 0x61, 0x72, 0x21], mime: 'application/vnd.rar' },
  { offset: 0, bytes: [0xd0, 0xcf, 0x11, 0xe0], mime: 'application/msword' },
  { offset: 4, bytes: [0x66, 0x74, 0x79, 0x70], mime: 'video/mp4' },
  { offset: 0, bytes: [0x49, 0x44, 0x33], mime: 'audio/mpeg' },
  { offset: 0, bytes: [0x4f, 0x67, 0x67, 0x53], mime: 'audio/ogg' },
  { offset: 0, bytes: [0x00, 0x61, 0x73, 0x6d], mime: 'application/wasm' },
  { offset: 0, bytes: [0x53, 0x51, 0x4c, 0x69, 0x74, 0x65], mime: 'application/vnd.sqlite3' },
];

/**
 * Decides the type from the content. PDF and DOCX by their signatures, other known
 * binaries are refused with `UnsupportedTypeError`, and what decodes as text is HTML,
 * Markdown or plain text. The name or declared type never overrides the content; it
 * only settles Markdown versus plain text when the content is ambiguous.
 */
export function detectType(bytes: Uint8Array, hints: TypeHints = {}): SupportedMimeType {
  if (hasPdfHeader(bytes)) return MIME_PDF;
  if (startsWith(bytes, 0, [0x50, 0x4b, 0x03, 0x04])) {
    if (containsAscii(bytes, 'word/document.xml')) return MIME_DOCX;
    throw new UnsupportedTypeError(
      'application/zip',
      'This is a ZIP archive but not a Word document (DOCX). Upload a PDF, DOCX, HTML, Markdown or plain-text file.',
    );
  }
  for (const magic of KNOWN_BINARIES) {
    if (startsWith(bytes, magic.offset, magic.bytes)) throw new UnsupportedTypeError(magic.mime);
  }
  const { text } = decodeText(sniffPrefix(bytes));
  return detectTextType(text, hints);
}

const SNIFF_BYTES = 64 * 1024;

/**
 * The first 64 KiB decide the type, so a 50 MB upload is not decoded twice. The cut is
 * moved back to a character boundary (UTF-8 continuation bytes, UTF-16 code units).
 */
export function sniffPrefix(bytes: Uint8Array): Uint8Array {
  if (bytes.length <= SNIFF_BYTES) return bytes;
  let end = SNIFF_BYTES;
  while (end > SNIFF_BYTES - 4 && (bytes[end] & 0xc0) === 0x80) end--;
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    end = SNIFF_BYTES;
  }
  return bytes.subarray(0, end);
}

/** Text that is already decoded (the `POST /v1/documents/text` route): HTML, Markdown or plain. */
export function detectTextType(text: string, hints: TypeHints = {}): SupportedMimeType {
  const head = text.slice(0, 4096).trimStart();
  const tagAt = skipPrologue(head);
  if (tagAt >= 0 && matchesAt(SVG_START, head, tagAt))
    throw new UnsupportedTypeError('image/svg+xml');
  if (tagAt >= 0 && matchesAt(HTML_START, head, tagAt)) return MIME_HTML;
  const score = markdownScore(text);
  if (score >= 2) return MIME_MARKDOWN;
  if (score === 1 && hintsMarkdown(hints)) return MIME_MARKDOWN;
  if (score === 0 && hintsMarkdown(hints)) return MIME_MARKDOWN;
  return MIME_TEXT;
}

/** The PDF spec lets a header appear after some junk within the first kilobyte. */
function hasPdfHeader(bytes: Uint8Array): boolean {
  const limit = Math.min(bytes.length - 4, 1024);
  for (let i = 0; i <= limit; i++) {
    if (
      bytes[i] === 0x25 &&
      bytes[i + 1] === 0x50 &&
      bytes[i + 2] === 0x44 &&
      bytes[i + 3] === 0x46
    ) {
      return true;
    }
  }
  return false;
}

function startsWith(bytes: Uint8Array, offset: number, magic: number[]): boolean {
  if (bytes.length < offset + magic.length) return false;
  return magic.every((b, i) => bytes[offset + i] === b);
}

function containsAscii(bytes: Uint8Array, needle: string): boolean {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes(
    needle,
    0,
    'latin1',
  );
}

/**
 * Where the first real tag may start: after an optional `<?xml …?>` declaration, then any
 * number of comments and whitespace. A forward scan, so its cost is linear in the input;
 * a regex with a repeated lazy comment group here backtracks exponentially. -1 when a
 * comment or the declaration never closes.
 */
function skipPrologue(text: string): number {
  let i = 0;
  if (text.startsWith('<?xml', 0)) {
    const end = text.indexOf('>', 5);
    if (end < 0) return -1;
    i = skipWhitespace(text, end + 1);
  }
  while (text.startsWith('<!--', i)) {
    const end = text.indexOf('-->', i + 4);
    if (end < 0) return -1;
    i = skipWhitespace(text, end + 3);
  }
  return i;
}

function skipWhitespace(text: string, from: number): number {
  let i = from;
  while (i < text.length && /\s/.test(text[i])) i++;
  return i;
}

/** `pattern` is sticky: it is tried at `index` only, never at later positions. */
function matchesAt(pattern: RegExp, text: string, index: number): boolean {
  pattern.lastIndex = index;
  return pattern.test(text);
}

const HTML_START =
  /<(?:!doctype\s+html|html|head|body|meta|title|article|main|section|div|table|h[1-6]|p)[\s>/]/iy;

const SVG_START = /(?:<!doctype\s+svg[^>]*>\s*)?<svg[\s>]/iy;

const MARKDOWN_SIGNALS: RegExp[] = [
  /^#{1,6}[ \t]+\S/m, // ATX heading
  /^[ \t]*[-*+][ \t]+\S/m, // bullet list
  /^[ \t]*\d+[.)][ \t]+\S/m, // numbered list
  /^(?:```|~~~)/m, // fenced code
  // Link text stops at `[` and the target at `(`: from each start the scan ends where the
  // next link could begin, so a line of brackets or of `](` costs linear time, not quadratic.
  /\[[^[\]\n]+\]\([^()\s]+\)/, // link
  /(?:\*\*|__)[^\s*_][^*_\n]*(?:\*\*|__)/, // strong emphasis
  /^>[ \t]?\S/m, // block quote
  /^\|?[ \t]*:?-{3,}:?[ \t]*\|/m, // table rule
  /^[^\n\r\u2028\u2029]+\n(?:=+|-+)[ \t]*$/m, // setext heading
];

function markdownScore(text: string): number {
  const sample = text.slice(0, 65_536);
  let score = 0;
  for (const signal of MARKDOWN_SIGNALS) if (signal.test(sample)) score++;
  return score;
}

function hintsMarkdown(hints: TypeHints): boolean {
  const name = hints.filename?.toLowerCase() ?? '';
  return (
    /\.(?:md|markdown|mdown|mkd)$/.test(name) ||
    (hints.declaredType?.toLowerCase().startsWith('text/markdown') ?? false) ||
    (hints.declaredType?.toLowerCase().startsWith('text/x-markdown') ?? false)
  );
}
