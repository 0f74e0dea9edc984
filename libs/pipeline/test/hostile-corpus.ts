import { createDeflate, createDeflateRaw, crc32, deflateRawSync } from 'node:zlib';

/*
 * Hostile documents, generated on demand so none is checked in: regex traps, zip bombs,
 * PDF page amplification, broken encodings. Shared by the unit tests and the worker's
 * end-to-end tests.
 */

/** `<!---->` × n then `x`: exponential for a regex that skips comments with a lazy group. */
export function emptyComments(n: number): string {
  return `${'<!---->'.repeat(n)}x`;
}

/** `a`, a run of spaces, `b`: quadratic for `/\s+$/` and heading patterns. */
export function whitespaceRun(length: number): string {
  return `a${' '.repeat(length)}b`;
}

interface ZipEntry {
  name: string;
  /** Raw-deflated bytes (or the content itself when `stored`). */
  data: Buffer;
  crc: number;
  size: number;
  /** What the central directory claims; defaults to `size`. */
  declaredSize?: number;
  stored?: boolean;
}

function deflated(name: string, content: Buffer): ZipEntry {
  return { name, data: deflateRawSync(content), crc: crc32(content), size: content.length };
}

/**
 * `times` copies of `chunk` then `tail`, deflated as one stream without holding them all
 * in memory: raw deflate for a ZIP entry, zlib-wrapped for a PDF's FlateDecode.
 */
async function deflateRepeated(
  chunk: Buffer,
  times: number,
  { tail = Buffer.alloc(0), zlib = false } = {},
): Promise<Buffer> {
  const deflate = zlib ? createDeflate({ level: 9 }) : createDeflateRaw({ level: 9 });
  const parts: Buffer[] = [];
  deflate.on('data', (part: Buffer) => parts.push(part));
  const done = new Promise<void>((resolve, reject) => {
    deflate.on('end', resolve);
    deflate.on('error', reject);
  });
  let crc = 0;
  for (let i = 0; i < times; i++) {
    crc = crc32(chunk, crc);
    if (!deflate.write(chunk)) await new Promise((r) => deflate.once('drain', r));
  }
  crc = crc32(tail, crc);
  deflate.end(tail);
  await done;
  const data = Buffer.concat(parts);
  return Object.assign(data, { crc });
}

/** A ZIP archive written by hand, so a test can make its directory say anything. */
export function zipArchive(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const directory: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const method = e.stored ? 0 : 8;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(e.crc >>> 0, 14);
    local.writeUInt32LE(e.data.length, 18);
    local.writeUInt32LE(e.declaredSize ?? e.size, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, e.data);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(e.crc >>> 0, 16);
    central.writeUInt32LE(e.data.length, 20);
    central.writeUInt32LE(e.declaredSize ?? e.size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    directory.push(central, name);
    offset += 30 + name.length + e.data.length;
  }
  const dir = Buffer.concat(directory);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}

const CONTENT_TYPES = Buffer.from(
  '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
);

/** A DOCX whose `word/document.xml` expands to `bytes` (the issue's was 336 MB from 987 KB). */
export async function docxBomb(bytes: number): Promise<Buffer> {
  const chunk = Buffer.alloc(1024 * 1024, '<w:p><w:r><w:t>a</w:t></w:r></w:p>');
  const times = Math.ceil(bytes / chunk.length);
  const data = (await deflateRepeated(chunk, times)) as Buffer & { crc: number };
  return zipArchive([
    deflated('[Content_Types].xml', CONTENT_TYPES),
    { name: 'word/document.xml', data, crc: data.crc, size: times * chunk.length },
  ]);
}

/** A DOCX whose directory claims a small `word/document.xml` that really expands to `bytes`. */
export function docxLyingDirectory(bytes: number): Buffer {
  const entry = deflated('word/document.xml', Buffer.alloc(bytes, 'a'));
  return zipArchive([
    deflated('[Content_Types].xml', CONTENT_TYPES),
    { ...entry, declaredSize: 1000 },
  ]);
}

/** A DOCX of `count` tiny entries. */
export function docxManyEntries(count: number): Buffer {
  const entries = [deflated('[Content_Types].xml', CONTENT_TYPES)];
  entries.push(deflated('word/document.xml', Buffer.from('<w:document/>')));
  for (let i = 0; i < count; i++) entries.push(deflated(`word/media/p${i}.xml`, Buffer.from('x')));
  return zipArchive(entries);
}

/**
 * A PDF of `pages` pages that all share one content stream, written by hand: tiny on
 * disk, about `pages` × `lines` × `line` characters of text once extracted.
 */
export function pdfSharedContent(
  pages: number,
  line = 'All work and no play. '.repeat(4),
  lines = 60,
): Buffer {
  const stream = `BT /F1 10 Tf 12 TL 20 820 Td ${`(${line}) '\n`.repeat(lines)}ET`;
  return pdfDocument(pages, `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`);
}

/**
 * A one-page PDF whose content stream is `bytes` of blanks, deflated (a few hundred KB),
 * before one line of text: reading that line inflates the whole stream into array
 * buffers, outside the JavaScript heap.
 */
export async function pdfFlateBomb(bytes: number): Promise<Buffer> {
  const chunk = Buffer.alloc(1024 * 1024, ' ');
  const tail = Buffer.from('\nBT /F1 10 Tf 20 800 Td (Inflated) Tj ET');
  const data = await deflateRepeated(chunk, Math.ceil(bytes / chunk.length), {
    tail,
    zlib: true,
  });
  return pdfDocument(
    1,
    `<< /Length ${data.length} /Filter /FlateDecode >>\nstream\n${data.toString('latin1')}\nendstream`,
  );
}

/** Catalog, pages tree, a font, `contents` as object 4, and `pages` pages that all use it. */
function pdfDocument(pages: number, contents: string): Buffer {
  const objects: string[] = [];
  const kids: string[] = [];
  const firstPage = 5;
  for (let i = 0; i < pages; i++) kids.push(`${firstPage + i} 0 R`);
  objects.push('<< /Type /Catalog /Pages 2 0 R >>');
  objects.push(`<< /Type /Pages /Kids [${kids.join(' ')}] /Count ${pages} >>`);
  objects.push('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>');
  objects.push(contents);
  for (let i = 0; i < pages; i++) {
    objects.push(
      '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>',
    );
  }
  let body = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((obj, i) => {
    offsets.push(body.length);
    body += `${i + 1} 0 obj\n${obj}\nendobj\n`;
  });
  const xrefAt = body.length;
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) body += `${String(off).padStart(10, '0')} 00000 n \n`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xrefAt}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

/** UTF-16LE with a BOM and lone surrogates in the middle. */
export function utf16WithLoneSurrogates(): Buffer {
  const units = [0xfeff, ...Buffer.from('before ').map((b) => b), 0xd800, 0x20, 0xdc00];
  units.push(...Buffer.from(' after and more words'.repeat(10)).map((b) => b));
  const buf = Buffer.alloc(units.length * 2);
  units.forEach((u, i) => buf.writeUInt16LE(u, i * 2));
  return buf;
}

/** Text with a few NUL characters scattered through it (too few to look binary). */
export function withNulBytes(): Buffer {
  const words = 'Plain words about nothing in particular. '.repeat(8);
  return Buffer.from(`Heading\u0000 line\n${words}\u0000\n${words}`);
}

/** Mostly valid UTF-8 broken by stray continuation and truncated sequences. */
export function invalidUtf8(): Buffer {
  return Buffer.concat([
    Buffer.from('Valid start. '),
    Buffer.from([0x80, 0xbf, 0xc3, 0x28, 0xe2, 0x82]),
    Buffer.from(' and a valid end with more words.'.repeat(10)),
  ]);
}
