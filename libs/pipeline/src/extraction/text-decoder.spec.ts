import * as iconv from 'iconv-lite';
import { fixture } from '../../test/fixtures';
import { UnsupportedTypeError } from '../pipeline-errors';
import { decodeText } from './text-decoder';

const KO = '데비안은 자유 소프트웨어 운영체제이다.';

describe('decodeText', () => {
  it('decodes UTF-8 with and without a BOM', () => {
    expect(decodeText(Buffer.from(KO, 'utf8'))).toEqual({
      text: KO,
      encoding: 'utf-8',
      hadBom: false,
    });
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(KO, 'utf8')]);
    expect(decodeText(withBom)).toEqual({ text: KO, encoding: 'utf-8', hadBom: true });
  });

  it('decodes UTF-16 LE and BE with a BOM', () => {
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(KO, 'utf16le')]);
    expect(decodeText(le)).toMatchObject({ text: KO, encoding: 'utf-16le' });
    const beBody = Buffer.from(KO, 'utf16le').swap16();
    const be = Buffer.concat([Buffer.from([0xfe, 0xff]), beBody]);
    expect(decodeText(be)).toMatchObject({ text: KO, encoding: 'utf-16be' });
  });

  it('reads the UTF-16 fixture', () => {
    const { text, encoding } = decodeText(fixture('sample-ko-utf16le.txt'));
    expect(encoding).toBe('utf-16le');
    expect(text).toContain('목성은 태양계에서 가장 큰 행성으로');
  });

  it('detects EUC-KR', () => {
    const { text, encoding } = decodeText(fixture('sample-ko-euckr.txt'));
    expect(encoding).toBe('euc-kr');
    expect(text.startsWith('한국의 전통 차 문화')).toBe(true);
    expect(text).toContain('초의 선사가 동다송을 지어');
  });

  it('detects CP949 when characters outside EUC-KR occur', () => {
    // 똠 and 햏 exist only in CP949's extension area.
    const source = '똠방각하와 햏자가 함께 한국어 문서를 읽었다. 한국어 문장이 이어진다.';
    const { text, encoding } = decodeText(iconv.encode(source, 'cp949'));
    expect(encoding).toBe('cp949');
    expect(text).toBe(source);
  });

  it('normalises to NFC so conjoining jamo become syllables', () => {
    const decomposed = '한국어'.normalize('NFD');
    expect(decomposed.length).toBe(8);
    const { text } = decodeText(Buffer.from(decomposed, 'utf8'));
    expect(text).toBe('한국어');
    expect(text.length).toBe(3);
  });

  it('turns CRLF and CR line endings into LF', () => {
    expect(decodeText(Buffer.from('a\r\nb\rc\n', 'utf8')).text).toBe('a\nb\nc\n');
  });

  it('falls back to Windows-1252 for other 8-bit text', () => {
    const { text, encoding } = decodeText(
      Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0x6e, 0x61, 0xef, 0x76, 0x65]),
    );
    expect(encoding).toBe('windows-1252');
    expect(text).toBe('café naïve');
  });

  it('refuses bytes full of control characters', () => {
    const bytes = Buffer.alloc(512);
    for (let i = 0; i < bytes.length; i++) bytes[i] = i % 32 === 10 ? 0x41 : (i * 7) % 9;
    expect(() => decodeText(bytes)).toThrow(UnsupportedTypeError);
  });
});
