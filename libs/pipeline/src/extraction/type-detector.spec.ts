import { fixture } from '../../test/fixtures';
import { isPermanent, UnsupportedTypeError } from '../pipeline-errors';
import {
  detectTextType,
  detectType,
  MIME_DOCX,
  MIME_HTML,
  MIME_MARKDOWN,
  MIME_PDF,
  MIME_TEXT,
  sniffPrefix,
} from './type-detector';

describe('detectType', () => {
  it.each([
    ['sample-en.pdf', MIME_PDF],
    ['sample-ko.pdf', MIME_PDF],
    ['encrypted.pdf', MIME_PDF],
    ['sample-en.docx', MIME_DOCX],
    ['sample-ko.docx', MIME_DOCX],
    ['sample-en.html', MIME_HTML],
    ['sample-ko.html', MIME_HTML],
    ['sample-en.md', MIME_MARKDOWN],
    ['sample-ko.md', MIME_MARKDOWN],
    ['sample-en.txt', MIME_TEXT],
    ['sample-ko.txt', MIME_TEXT],
    ['sample-ko-utf16le.txt', MIME_TEXT],
    ['sample-ko-euckr.txt', MIME_TEXT],
  ])('sniffs %s as %s from its content', (name, mime) => {
    expect(detectType(fixture(name))).toBe(mime);
  });

  it('ignores a misleading file name', () => {
    expect(
      detectType(fixture('sample-en.pdf'), { filename: 'notes.txt', declaredType: 'text/plain' }),
    ).toBe(MIME_PDF);
    expect(
      detectType(fixture('sample-en.txt'), { filename: 'report.pdf', declaredType: MIME_PDF }),
    ).toBe(MIME_TEXT);
    expect(detectType(fixture('sample-en.html'), { filename: 'page.md' })).toBe(MIME_HTML);
  });

  it('finds a PDF header preceded by junk', () => {
    const bytes = Buffer.concat([Buffer.from('\r\n\r\n  '), fixture('sample-en.pdf')]);
    expect(detectType(bytes)).toBe(MIME_PDF);
  });

  it.each([
    ['PNG', [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d], 'image/png'],
    ['JPEG', [0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46], 'image/jpeg'],
    ['GIF', [...Buffer.from('GIF89a'), 1, 0, 1, 0], 'image/gif'],
    [
      'Windows executable',
      [0x4d, 0x5a, 0x90, 0, 3, 0, 0, 0],
      'application/vnd.microsoft.portable-executable',
    ],
    ['ELF executable', [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 'application/x-executable'],
    ['gzip', [0x1f, 0x8b, 8, 0, 0, 0, 0, 0], 'application/gzip'],
  ])('refuses %s as unsupported', (_label, bytes, mime) => {
    let caught: unknown;
    try {
      detectType(Uint8Array.from(bytes));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UnsupportedTypeError);
    expect((caught as UnsupportedTypeError).detected).toBe(mime);
    expect(isPermanent(caught)).toBe(true);
  });

  it('refuses an SVG image even though it is text', () => {
    const svg =
      '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><text>hi</text></svg>';
    expect(() => detectType(Buffer.from(svg))).toThrow(/image\/svg\+xml/);
  });

  it('refuses a ZIP archive that is not a Word document', () => {
    const zip = Buffer.concat([
      Buffer.from([0x50, 0x4b, 0x03, 0x04]),
      Buffer.from('\0\0\0\0photos/cat.jpg\0\0'),
    ]);
    expect(() => detectType(zip)).toThrow(/ZIP archive but not a Word document/);
  });

  it('sniffs only a prefix of a large text, cut at a character boundary', () => {
    // 3-byte Hangul syllables put a multi-byte character across the 64 KiB mark.
    const md = Buffer.from('# 제목\n\n**중요**\n\n' + '한국어 문장입니다. '.repeat(20_000));
    expect(md.length).toBeGreaterThan(64 * 1024);
    expect(detectType(md)).toBe(MIME_MARKDOWN);
    const text = Buffer.from('한'.repeat(40_000));
    expect(detectType(text)).toBe(MIME_TEXT);
    const prefix = sniffPrefix(text);
    expect(prefix.length).toBeLessThanOrEqual(64 * 1024);
    expect(prefix.length % 3).toBe(0);
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(prefix)).not.toThrow();
    const utf16 = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from('가나다 '.repeat(20_000), 'utf16le'),
    ]);
    expect(detectType(utf16)).toBe(MIME_TEXT);
  });

  it('refuses random binary data', () => {
    const bytes = new Uint8Array(2048);
    let x = 12345;
    for (let i = 0; i < bytes.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      bytes[i] = x >>> 24;
    }
    expect(() => detectType(bytes)).toThrow(UnsupportedTypeError);
  });
});

describe('detectTextType', () => {
  it('uses the name only to settle Markdown versus plain text', () => {
    const ambiguous = 'Shopping list\n\n- eggs\nand some milk too';
    expect(detectTextType(ambiguous)).toBe(MIME_TEXT);
    expect(detectTextType(ambiguous, { filename: 'list.md' })).toBe(MIME_MARKDOWN);
    expect(detectTextType(ambiguous, { declaredType: 'text/markdown; charset=utf-8' })).toBe(
      MIME_MARKDOWN,
    );
  });

  it('recognises Markdown by its syntax whatever the name', () => {
    const md = '# Title\n\nSome **bold** text and a [link](https://example.com).';
    expect(detectTextType(md, { filename: 'notes.txt' })).toBe(MIME_MARKDOWN);
  });

  it('keeps prose without Markdown syntax as plain text', () => {
    expect(detectTextType('Just a sentence.\nAnother line.')).toBe(MIME_TEXT);
  });

  it('recognises HTML documents and fragments', () => {
    expect(detectTextType('<!DOCTYPE html><html><body><p>x</p></body></html>')).toBe(MIME_HTML);
    expect(detectTextType('  <!-- saved page -->\n<html lang="ko"><p>안녕</p></html>')).toBe(
      MIME_HTML,
    );
    expect(detectTextType('<p>Fragment</p>')).toBe(MIME_HTML);
    expect(detectTextType('a < b and c > d')).toBe(MIME_TEXT);
  });
});
