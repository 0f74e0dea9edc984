import { inflateRawSync } from 'node:zlib';
import { CorruptDocumentError } from '../pipeline-errors';
import { limitExceeded, type ExtractionLimits } from './extraction-limits';

const END_OF_DIRECTORY = 0x06054b50;
const DIRECTORY_ENTRY = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;
const STORED = 0;
const DEFLATED = 8;

interface ArchiveEntry {
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
}

/**
 * Checks a DOCX (a ZIP archive) against the expansion caps before anything unzips it:
 * first the central directory's own claims (entry count, total expanded size, ratio),
 * then each entry is inflated with its declared size as a hard ceiling, so an archive
 * whose directory lies cannot expand past the caps either. Memory stays bounded by the
 * largest permitted entry.
 */
export function checkDocxArchive(bytes: Uint8Array, limits: ExtractionLimits): void {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries = readDirectory(buf, limits);
  let total = 0;
  for (const entry of entries) total += entry.uncompressedSize;
  checkTotals(entries.length, total, buf.length, limits);
  let inflated = 0;
  for (const entry of entries) {
    inflated += verifyEntry(buf, entry, limits);
    checkTotals(entries.length, inflated, buf.length, limits);
  }
}

function checkTotals(
  entryCount: number,
  expanded: number,
  archiveBytes: number,
  limits: ExtractionLimits,
): void {
  if (entryCount > limits.docxMaxEntries) {
    throw limitExceeded(
      'DOCX_MAX_ENTRIES',
      `the archive's ${entryCount} files`,
      `${limits.docxMaxEntries} files`,
    );
  }
  if (expanded > limits.docxMaxUncompressedBytes) {
    throw limitExceeded(
      'DOCX_MAX_UNCOMPRESSED_BYTES',
      'the unzipped size',
      `${limits.docxMaxUncompressedBytes} bytes`,
    );
  }
  if (expanded > archiveBytes * limits.docxMaxRatio) {
    throw limitExceeded(
      'DOCX_MAX_RATIO',
      `the compression ratio (${Math.round(expanded / Math.max(archiveBytes, 1))}:1)`,
      `${limits.docxMaxRatio}:1`,
    );
  }
}

function readDirectory(buf: Buffer, limits: ExtractionLimits): ArchiveEntry[] {
  const eocd = findEndOfDirectory(buf);
  const declaredCount = buf.readUInt16LE(eocd + 10);
  const directorySize = buf.readUInt32LE(eocd + 12);
  const directoryOffset = buf.readUInt32LE(eocd + 16);
  if (declaredCount === 0xffff || directoryOffset === 0xffffffff) {
    throw corrupt('it uses ZIP64 extensions, which a Word document never needs');
  }
  if (declaredCount > limits.docxMaxEntries) {
    checkTotals(declaredCount, 0, buf.length, limits);
  }
  if (directoryOffset + directorySize > eocd) throw corrupt('its file directory is truncated');
  const entries: ArchiveEntry[] = [];
  let at = directoryOffset;
  while (at + 46 <= eocd && buf.readUInt32LE(at) === DIRECTORY_ENTRY) {
    entries.push({
      method: buf.readUInt16LE(at + 10),
      compressedSize: buf.readUInt32LE(at + 20),
      uncompressedSize: buf.readUInt32LE(at + 24),
      localHeaderOffset: buf.readUInt32LE(at + 42),
    });
    if (entries.length > limits.docxMaxEntries) checkTotals(entries.length, 0, buf.length, limits);
    at += 46 + buf.readUInt16LE(at + 28) + buf.readUInt16LE(at + 30) + buf.readUInt16LE(at + 32);
  }
  if (entries.length !== declaredCount) throw corrupt('its file directory is inconsistent');
  return entries;
}

/** The end-of-directory record sits in the last 22 bytes plus an optional comment. */
function findEndOfDirectory(buf: Buffer): number {
  const lowest = Math.max(0, buf.length - 22 - 0xffff);
  for (let at = buf.length - 22; at >= lowest; at--) {
    if (buf.readUInt32LE(at) === END_OF_DIRECTORY) return at;
  }
  throw corrupt('it is not a complete ZIP archive');
}

/** Inflates one entry with its declared size as the ceiling; returns the real size. */
function verifyEntry(buf: Buffer, entry: ArchiveEntry, limits: ExtractionLimits): number {
  const at = entry.localHeaderOffset;
  if (at + 30 > buf.length || buf.readUInt32LE(at) !== LOCAL_HEADER) {
    throw corrupt('an entry of its file directory points nowhere');
  }
  const dataStart = at + 30 + buf.readUInt16LE(at + 26) + buf.readUInt16LE(at + 28);
  const dataEnd = dataStart + entry.compressedSize;
  if (dataEnd > buf.length) throw corrupt('an entry runs past the end of the file');
  if (entry.method === STORED) return entry.compressedSize;
  if (entry.method !== DEFLATED) throw corrupt(`an entry uses compression method ${entry.method}`);
  try {
    return inflateRawSync(buf.subarray(dataStart, dataEnd), {
      maxOutputLength: Math.max(1, entry.uncompressedSize),
    }).length;
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      // The entry expands past what the directory declared: treat it as the cap it dodged.
      throw limitExceeded(
        'DOCX_MAX_UNCOMPRESSED_BYTES',
        'an entry that expands beyond its declared size',
        `${limits.docxMaxUncompressedBytes} bytes`,
      );
    }
    throw corrupt('an entry cannot be decompressed');
  }
}

function corrupt(reason: string): CorruptDocumentError {
  return new CorruptDocumentError(
    `This Word document (DOCX) could not be read: ${reason}. Save it again from Word and upload it once more.`,
  );
}
