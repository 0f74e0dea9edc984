import * as iconv from 'iconv-lite';
import { fixture } from '../../test/fixtures';
import {
  CorruptDocumentError,
  EncryptedDocumentError,
  ExtractionTimeoutError,
  isPermanent,
  NoExtractableTextError,
} from '../pipeline-errors';
import { DocumentExtractor } from './document-extractor';
import { MIME_DOCX, MIME_HTML, MIME_MARKDOWN, MIME_PDF, MIME_TEXT } from './type-detector';

describe('DocumentExtractor', () => {
  const extractor = new DocumentExtractor({ timeoutMs: 30_000 });
  afterAll(() => extractor.close());

  const pageText = (
    doc: { text: string; pages: { charStart: number; charEnd: number }[] },
    i: number,
  ) => doc.text.slice(doc.pages[i].charStart, doc.pages[i].charEnd);

  describe('PDF', () => {
    it('extracts English text page by page', async () => {
      const doc = await extractor.extract(fixture('sample-en.pdf'));
      expect(doc.mimeType).toBe(MIME_PDF);
      expect(doc.title).toBe('The Volcanoes of Iceland');
      expect(doc.pages.map((p) => p.page)).toEqual([1, 2, 3]);
      expect(pageText(doc, 0)).toContain('Mid-Atlantic Ridge');
      expect(pageText(doc, 1)).toContain('ash cloud that drifted over Europe');
      expect(pageText(doc, 1)).not.toContain('Mid-Atlantic');
      expect(pageText(doc, 2)).toContain('Geothermal energy');
      expect(pageText(doc, 2)).toContain('Blue Lagoon');
    });

    it('extracts Korean text page by page', async () => {
      const doc = await extractor.extract(fixture('sample-ko.pdf'));
      expect(doc.title).toBe('제주도의 자연과 문화');
      expect(doc.pages).toHaveLength(3);
      expect(pageText(doc, 0)).toContain('한라산');
      expect(pageText(doc, 1)).toContain('해녀');
      expect(pageText(doc, 1)).toContain('유네스코 인류무형문화유산으로');
      expect(pageText(doc, 2)).toContain('돌하르방은 현무암을 깎아 만든 석상으로');
      expect(doc.text).toBe(doc.text.normalize('NFC'));
    });

    it('reports an encrypted PDF as permanent, in words a person understands', async () => {
      const err = await extractor.extract(fixture('encrypted.pdf')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EncryptedDocumentError);
      expect(isPermanent(err)).toBe(true);
      expect((err as Error).message).toMatch(/password-protected/);
    });

    it('reports a corrupt PDF as permanent', async () => {
      const err = await extractor.extract(fixture('corrupt.pdf')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CorruptDocumentError);
      expect(isPermanent(err)).toBe(true);
      expect((err as Error).message).toMatch(/damaged or is not a valid PDF/);
    });

    it('keeps working after a bad PDF', async () => {
      await expect(extractor.extract(fixture('corrupt.pdf'))).rejects.toThrow(CorruptDocumentError);
      const doc = await extractor.extract(fixture('sample-en.pdf'));
      expect(doc.text).toContain('Eyjafjallajokull');
    });
  });

  it('abandons a PDF that takes too long, then recovers with a new worker thread', async () => {
    const impatient = new DocumentExtractor({ timeoutMs: 1 });
    try {
      const err = await impatient.extract(fixture('sample-ko.pdf')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ExtractionTimeoutError);
      expect(isPermanent(err)).toBe(true);
      expect((err as Error).message).toMatch(/EXTRACT_TIMEOUT_MS \(1 ms\)/);
    } finally {
      await impatient.close();
    }
    const patient = new DocumentExtractor({ timeoutMs: 30_000 });
    try {
      const doc = await patient.extract(fixture('sample-ko.pdf'));
      expect(doc.pages).toHaveLength(3);
    } finally {
      await patient.close();
    }
  });

  describe('DOCX', () => {
    it('keeps Word headings as Markdown headings (English)', async () => {
      const doc = await extractor.extract(fixture('sample-en.docx'));
      expect(doc.mimeType).toBe(MIME_DOCX);
      expect(doc.title).toBe('Baking Sourdough Bread');
      expect(doc.text).toMatch(
        /^# Baking Sourdough Bread\n\n## The starter\n\nA sourdough starter/,
      );
      expect(doc.text).toContain('## Mixing and folding');
      expect(doc.text).toContain('preheated Dutch oven at 250 degrees Celsius');
      expect(doc.pages).toEqual([]);
    });

    it('extracts Korean', async () => {
      const doc = await extractor.extract(fixture('sample-ko.docx'));
      expect(doc.title).toBe('김치 담그는 법');
      expect(doc.text).toContain('## 양념 만들기');
      expect(doc.text).toContain('고춧가루, 다진 마늘, 생강, 멸치액젓, 새우젓을 섞고');
    });

    it('reports a broken DOCX as permanent', async () => {
      const docx = fixture('sample-en.docx');
      const broken = Buffer.concat([docx.subarray(0, 600), Buffer.alloc(200)]);
      const err = await extractor.extract(broken).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CorruptDocumentError);
      expect(isPermanent(err)).toBe(true);
    });
  });

  describe('HTML', () => {
    it('keeps the article and drops scripts, styles, navigation, header, footer and asides', async () => {
      const doc = await extractor.extract(fixture('sample-en.html'));
      expect(doc.mimeType).toBe(MIME_HTML);
      expect(doc.title).toBe('Life in a Honeybee Colony');
      expect(doc.text).toContain('# Life in a Honeybee Colony');
      expect(doc.text).toContain('## The queen and the drones');
      expect(doc.text).toContain('It has one queen, a few hundred male drones');
      expect(doc.text).toContain(
        '- Foragers tell each other where flowers are with the waggle dance.',
      );
      for (const dropped of [
        'tracking-script-text',
        'late script',
        'font-family',
        'Site header menu',
        'About navigation link',
        'Sidebar advertisement',
        'Copyright footer',
        'Enable JavaScript',
      ]) {
        expect(doc.text).not.toContain(dropped);
      }
    });

    it('extracts Korean with headings and paragraphs', async () => {
      const doc = await extractor.extract(fixture('sample-ko.html'));
      expect(doc.title).toBe('데비안 리눅스 배포판 소개');
      expect(doc.text).toContain('## 패키지 관리');
      expect(doc.text).toContain(
        '데비안은 1993년 이언 머독이 시작한 자유 소프트웨어 운영체제 배포판이다.',
      );
      expect(doc.text).not.toContain('스크립트 내용');
      expect(doc.text).not.toContain('소식 메뉴');
      expect(doc.text).not.toContain('광고');
      expect(doc.text).toMatch(/\n\n## 배포판의 종류\n\n데비안에는/);
    });

    it('reads legacy EUC-KR HTML', async () => {
      const html =
        '<html><head><meta charset="euc-kr"><title>차 문화</title></head>' +
        '<body><h1>한국의 전통 차</h1><p>보성과 하동은 대표적인 녹차 산지이다.</p></body></html>';
      const doc = await extractor.extract(iconv.encode(html, 'euc-kr'));
      expect(doc.mimeType).toBe(MIME_HTML);
      expect(doc.encoding).toBe('euc-kr');
      expect(doc.title).toBe('차 문화');
      expect(doc.text).toBe('# 한국의 전통 차\n\n보성과 하동은 대표적인 녹차 산지이다.');
    });

    it('decodes entities and keeps an article header', async () => {
      const html =
        '<html><body><header>Site</header><article><header><h1>Caf&eacute; &amp; tea</h1></header>' +
        '<p>One&nbsp;line<br>next</p><pre>a  b\n  c</pre></article></body></html>';
      const doc = await extractor.extract(Buffer.from(html));
      expect(doc.text).toBe('# Café & tea\n\nOne line\nnext\n\na  b\n  c');
    });
  });

  describe('Markdown and plain text', () => {
    it('keeps Markdown as written and takes the first heading as title', async () => {
      const en = await extractor.extract(fixture('sample-en.md'));
      expect(en.mimeType).toBe(MIME_MARKDOWN);
      expect(en.title).toBe('Ownership and Borrowing in Rust');
      expect(en.text).toContain('## Borrowing');
      expect(en.text).toContain('Exactly one mutable reference');
      const ko = await extractor.extract(fixture('sample-ko.md'));
      expect(ko.title).toBe('훈민정음과 한글의 창제 원리');
      expect(ko.text).toContain('ㄱ은 혀뿌리가 목구멍을 막는 모양을 본떴다.');
    });

    it('extracts plain text in UTF-8, UTF-16 and EUC-KR', async () => {
      const en = await extractor.extract(fixture('sample-en.txt'));
      expect(en.mimeType).toBe(MIME_TEXT);
      expect(en.title).toBe('A Short History of the Bicycle');
      expect(en.text).toContain('penny-farthing of the 1870s');
      const ko = await extractor.extract(fixture('sample-ko.txt'));
      expect(ko.text).toContain('서울 지하철 1호선은 1974년 8월 15일에');
      const utf16 = await extractor.extract(fixture('sample-ko-utf16le.txt'));
      expect(utf16.encoding).toBe('utf-16le');
      expect(utf16.text).toContain('토성은 얼음과 암석 조각으로');
      const euckr = await extractor.extract(fixture('sample-ko-euckr.txt'));
      expect(euckr.encoding).toBe('euc-kr');
      expect(euckr.text).toContain('보성과 경상남도 하동은 대표적인 녹차 산지이다.');
    });

    it('refuses a document without text', async () => {
      const err = await extractor.extract(Buffer.from('   \n\n\t  ')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NoExtractableTextError);
      expect(isPermanent(err)).toBe(true);
    });

    it('refuses HTML that is all furniture', async () => {
      const html = '<html><head><script>x()</script></head><body><nav>Menu</nav></body></html>';
      await expect(extractor.extract(Buffer.from(html))).rejects.toThrow(NoExtractableTextError);
    });
  });
});
