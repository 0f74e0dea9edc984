import { ExtractionLimitError } from '../pipeline-errors';

/** Caps one document must fit in; each is named after its setting in `libs/config`. */
export interface ExtractionLimits {
  /** `EXTRACT_MAX_PAGES`: PDF pages. */
  maxPages: number;
  /** `EXTRACT_MAX_CHARS`: characters of extracted text. */
  maxChars: number;
  /** `DOCX_MAX_UNCOMPRESSED_BYTES`: all entries of a DOCX archive, expanded. */
  docxMaxUncompressedBytes: number;
  /** `DOCX_MAX_RATIO`: expanded size over the size of the archive. */
  docxMaxRatio: number;
  /** `DOCX_MAX_ENTRIES`: files in a DOCX archive. */
  docxMaxEntries: number;
}

export const DEFAULT_EXTRACTION_LIMITS: ExtractionLimits = {
  maxPages: 2_000,
  maxChars: 5_000_000,
  docxMaxUncompressedBytes: 100 * 1024 * 1024,
  docxMaxRatio: 100,
  docxMaxEntries: 2_000,
};

/** `This document is too large to index: extracted text exceeds EXTRACT_MAX_CHARS (…)`. */
export function limitExceeded(setting: string, what: string, limit: string): ExtractionLimitError {
  return new ExtractionLimitError(
    setting,
    `This document is too large to index: ${what} exceeds ${setting} (${limit}).`,
  );
}

export function tooManyChars(limits: ExtractionLimits): ExtractionLimitError {
  return limitExceeded(
    'EXTRACT_MAX_CHARS',
    'extracted text',
    `${limits.maxChars.toLocaleString('en-US')} characters`,
  );
}
