import * as iconv from 'iconv-lite';
import { UnsupportedTypeError } from '../pipeline-errors';

export type TextEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'euc-kr' | 'cp949' | 'windows-1252';

export interface DecodedText {
  text: string;
  encoding: TextEncoding;
  hadBom: boolean;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes uploaded text bytes: UTF-8 (BOM optional), UTF-16 with a BOM, and Korean
 * legacy encodings (EUC-KR and its superset CP949, still common for files written on
 * Korean Windows). The result is NFC-normalised, so Hangul typed as conjoining jamo
 * becomes precomposed syllables, and line endings are `\n`.
 * Throws `UnsupportedTypeError` when the bytes are not text at all.
 */
export function decodeText(bytes: Uint8Array): DecodedText {
  const decoded = decodeRaw(bytes);
  if (looksBinary(decoded.text)) {
    throw new UnsupportedTypeError('application/octet-stream');
  }
  return { ...decoded, text: normaliseText(decoded.text) };
}

/** NFC, `\n` line endings, no NUL characters: what every extractor hands on. */
export function normaliseText(text: string): string {
  return text.replace(/\r\n?/g, '\n').replaceAll('\u0000', '').normalize('NFC');
}

function decodeRaw(bytes: Uint8Array): DecodedText {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return {
      text: new TextDecoder('utf-8').decode(bytes.subarray(3)),
      encoding: 'utf-8',
      hadBom: true,
    };
  }
  if (bytes[0] === 0xff && bytes[1] === 0xfe) {
    return {
      text: new TextDecoder('utf-16le').decode(bytes.subarray(2)),
      encoding: 'utf-16le',
      hadBom: true,
    };
  }
  if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    return {
      text: new TextDecoder('utf-16be').decode(bytes.subarray(2)),
      encoding: 'utf-16be',
      hadBom: true,
    };
  }
  try {
    return { text: strictUtf8.decode(bytes), encoding: 'utf-8', hadBom: false };
  } catch {
    // Not UTF-8: fall through to the legacy encodings.
  }
  const utf16 = guessBomlessUtf16(bytes);
  if (utf16) {
    return { text: new TextDecoder(utf16).decode(bytes), encoding: utf16, hadBom: false };
  }
  const korean = koreanLegacyEncoding(bytes);
  if (korean) {
    return { text: iconv.decode(Buffer.from(bytes), 'cp949'), encoding: korean, hadBom: false };
  }
  return {
    text: iconv.decode(Buffer.from(bytes), 'windows-1252'),
    encoding: 'windows-1252',
    hadBom: false,
  };
}

/** ASCII-heavy UTF-16 without a BOM shows NUL in every other byte. */
function guessBomlessUtf16(bytes: Uint8Array): 'utf-16le' | 'utf-16be' | undefined {
  const n = Math.min(bytes.length - (bytes.length % 2), 4096);
  if (n < 4) return undefined;
  let evenZero = 0;
  let oddZero = 0;
  for (let i = 0; i < n; i += 2) {
    if (bytes[i] === 0) evenZero++;
    if (bytes[i + 1] === 0) oddZero++;
  }
  const pairs = n / 2;
  if (oddZero > pairs * 0.4 && evenZero < pairs * 0.05) return 'utf-16le';
  if (evenZero > pairs * 0.4 && oddZero < pairs * 0.05) return 'utf-16be';
  return undefined;
}

/**
 * CP949 lead bytes are 0x81–0xFE with trail bytes 0x41–0xFE; EUC-KR is the subset where
 * both are 0xA1–0xFE. Accept when nearly every high byte forms a valid pair and a real
 * share of them are Hangul syllables (lead 0xB0–0xC8 in EUC-KR).
 */
function koreanLegacyEncoding(bytes: Uint8Array): 'euc-kr' | 'cp949' | undefined {
  let pairs = 0;
  let invalid = 0;
  let hangul = 0;
  let extended = false;
  for (let i = 0; i < bytes.length; i++) {
    const lead = bytes[i];
    if (lead < 0x80) continue;
    const trail = bytes[i + 1];
    if (lead >= 0x81 && lead <= 0xfe && trail !== undefined && trail >= 0x41 && trail <= 0xfe) {
      pairs++;
      if (lead >= 0xb0 && lead <= 0xc8 && trail >= 0xa1) hangul++;
      if (lead < 0xa1 || trail < 0xa1) extended = true;
      i++;
    } else {
      invalid++;
    }
  }
  if (pairs === 0 || invalid > pairs * 0.02 || hangul < pairs * 0.3) return undefined;
  return extended ? 'cp949' : 'euc-kr';
}

/** Decoded binary shows many C0 control characters besides tab, newline, CR and form feed. */
function looksBinary(text: string): boolean {
  const n = Math.min(text.length, 8192);
  if (n === 0) return false;
  let control = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x0c) || c === 0xfffd) {
      control++;
    }
  }
  return control > n * 0.02;
}
