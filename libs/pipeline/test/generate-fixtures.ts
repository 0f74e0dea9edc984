/*
 * Regenerates the binary sample documents in ./fixtures (the text ones are written by
 * hand). Needs the Nanum font for Korean glyphs and qpdf for the encrypted PDF:
 *   apt-get install -y fonts-nanum qpdf
 *   node libs/pipeline/test/generate-fixtures.ts
 * Output is committed; the font is not.
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as iconv from 'iconv-lite';
import PDFDocument from 'pdfkit';
import { Document, HeadingLevel, Packer, Paragraph, TextRun } from 'docx';

// Run directly by Node (type stripping, ES module), so no __dirname.
const dir = join(dirname(process.argv[1]), 'fixtures');
const KOREAN_FONT = '/usr/share/fonts/truetype/nanum/NanumGothic.ttf';
const FIXED_DATE = new Date('2026-01-15T09:00:00Z');

interface Section {
  heading: string;
  paragraphs: string[];
}

const PDF_EN: { title: string; pages: Section[] } = {
  title: 'The Volcanoes of Iceland',
  pages: [
    {
      heading: 'A land built by eruptions',
      paragraphs: [
        'Iceland sits on the Mid-Atlantic Ridge, where the North American and Eurasian plates pull apart by about two centimetres a year. Magma rises into the gap, and a hotspot beneath the island adds even more.',
        'About thirty volcanic systems are active today. On average an eruption happens somewhere in Iceland every four to five years.',
      ],
    },
    {
      heading: 'Eyjafjallajokull, 2010',
      paragraphs: [
        'In April 2010 the eruption of Eyjafjallajokull under a glacier produced a fine ash cloud that drifted over Europe. Airspace across much of the continent closed for six days and about one hundred thousand flights were cancelled.',
        'Meltwater from the glacier caused floods, and farmers near the volcano had to move their livestock.',
      ],
    },
    {
      heading: 'Geothermal energy',
      paragraphs: [
        'The same heat that feeds the volcanoes warms nine out of ten Icelandic homes. Geothermal power stations such as Hellisheidi also generate electricity from steam drawn out of deep wells.',
        'Hot springs and the Blue Lagoon show how the island turns its restless geology into comfort and tourism.',
      ],
    },
  ],
};

const PDF_KO: { title: string; pages: Section[] } = {
  title: '제주도의 자연과 문화',
  pages: [
    {
      heading: '한라산과 화산섬 제주',
      paragraphs: [
        '제주도는 약 180만 년 전부터 이어진 화산 활동으로 만들어진 섬이다. 섬 한가운데에는 높이 1,947미터의 한라산이 솟아 있으며, 남한에서 가장 높은 산이다.',
        '섬 곳곳에는 오름이라고 불리는 작은 화산체가 360개가 넘게 흩어져 있다.',
      ],
    },
    {
      heading: '해녀 문화',
      paragraphs: [
        '제주 해녀는 산소통 없이 바다에 들어가 전복과 소라, 미역을 채취한다. 해녀들은 물질을 마치고 나오며 숨비소리라는 독특한 휘파람 소리를 낸다.',
        '제주 해녀 문화는 2016년 유네스코 인류무형문화유산으로 등재되었다.',
      ],
    },
    {
      heading: '돌하르방과 돌담',
      paragraphs: [
        '돌하르방은 현무암을 깎아 만든 석상으로, 마을 입구에서 마을을 지키는 수호신 역할을 했다.',
        '바람이 센 제주에서는 현무암을 쌓아 올린 돌담이 밭과 집을 바람으로부터 보호한다.',
      ],
    },
  ],
};

const DOCX_EN: { title: string; sections: Section[] } = {
  title: 'Baking Sourdough Bread',
  sections: [
    {
      heading: 'The starter',
      paragraphs: [
        'A sourdough starter is a mixture of flour and water in which wild yeast and lactic acid bacteria live together. Feed it every day with equal weights of flour and water until it doubles within six hours.',
      ],
    },
    {
      heading: 'Mixing and folding',
      paragraphs: [
        'Mix the flour and water first and let them rest for an hour; this autolyse makes the dough easier to stretch. Then add the starter and the salt.',
        'Instead of kneading, give the dough four sets of stretch and folds, thirty minutes apart, during the bulk fermentation.',
      ],
    },
    {
      heading: 'Baking',
      paragraphs: [
        'Shape the loaf, let it prove overnight in the refrigerator, and bake it in a preheated Dutch oven at 250 degrees Celsius. Remove the lid after twenty minutes so the crust turns deep brown.',
      ],
    },
  ],
};

const DOCX_KO: { title: string; sections: Section[] } = {
  title: '김치 담그는 법',
  sections: [
    {
      heading: '배추 절이기',
      paragraphs: [
        '배추를 반으로 갈라 굵은 소금을 켜켜이 뿌리고 여섯 시간에서 여덟 시간 동안 절인다. 절인 배추는 찬물에 세 번 헹군 뒤 물기를 뺀다.',
      ],
    },
    {
      heading: '양념 만들기',
      paragraphs: [
        '고춧가루, 다진 마늘, 생강, 멸치액젓, 새우젓을 섞고 찹쌀풀을 넣어 양념을 만든다. 무채와 쪽파를 넣으면 맛이 더 풍부해진다.',
      ],
    },
    {
      heading: '버무리기와 숙성',
      paragraphs: [
        '배춧잎 사이사이에 양념을 골고루 바른 뒤 김치통에 꼭꼭 눌러 담는다. 실온에서 하루 정도 익힌 다음 냉장고에 넣어 천천히 숙성시킨다.',
        '김장은 겨울을 나기 위해 많은 양의 김치를 한꺼번에 담그는 풍습으로, 2013년 유네스코 인류무형문화유산에 등재되었다.',
      ],
    },
  ],
};

const UTF16_KO = `태양계의 행성

태양계에는 여덟 개의 행성이 있다. 태양에 가까운 순서대로 수성, 금성, 지구, 화성, 목성, 토성, 천왕성, 해왕성이다.

수성부터 화성까지는 암석으로 이루어진 지구형 행성이고, 목성부터 해왕성까지는 가스와 얼음으로 이루어진 목성형 행성이다.

목성은 태양계에서 가장 큰 행성으로, 대적점이라고 불리는 거대한 폭풍이 수백 년째 이어지고 있다. 토성은 얼음과 암석 조각으로 이루어진 아름다운 고리로 유명하다.
`;

const EUCKR_KO = `한국의 전통 차 문화

우리나라의 차 문화는 삼국 시대에 시작되어 고려 시대에 크게 꽃피었다. 고려 사람들은 차를 마시는 다례를 중요한 의식으로 여겼고, 아름다운 청자 찻잔을 만들었다.

조선 시대 후기에는 초의 선사가 동다송을 지어 우리 차의 우수함을 노래했다. 다산 정약용과 추사 김정희도 차를 즐겨 마시며 초의 선사와 깊이 교류했다.

오늘날 전라남도 보성과 경상남도 하동은 대표적인 녹차 산지이다. 곡우 전에 딴 어린 찻잎으로 만든 우전차는 맛이 부드럽고 향이 좋아 귀하게 여겨진다.
`;

function writePdf(
  file: string,
  doc: { title: string; pages: Section[] },
  korean: boolean,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const pdf = new PDFDocument({
      size: 'A5',
      margin: 50,
      info: { Title: doc.title, CreationDate: FIXED_DATE, ModDate: FIXED_DATE },
      autoFirstPage: false,
    });
    const out = createWriteStream(join(dir, file));
    out.on('finish', () => resolve());
    out.on('error', reject);
    pdf.pipe(out);
    if (korean) pdf.registerFont('body', KOREAN_FONT);
    const font = korean ? 'body' : 'Helvetica';
    const bold = korean ? 'body' : 'Helvetica-Bold';
    doc.pages.forEach((section, i) => {
      pdf.addPage();
      if (i === 0) pdf.font(bold).fontSize(18).text(doc.title).moveDown();
      pdf.font(bold).fontSize(14).text(section.heading).moveDown(0.5);
      for (const p of section.paragraphs) {
        pdf.font(font).fontSize(11);
        for (const line of wrapAtSpaces(pdf, p)) pdf.text(line);
        pdf.moveDown(0.5);
      }
    });
    pdf.end();
  });
}

/**
 * PDFKit breaks Hangul lines between any two syllables, which splits words across lines;
 * Korean typesetting (and Word's default) wraps between words, so wrap by hand.
 */
function wrapAtSpaces(pdf: PDFKit.PDFDocument, paragraph: string): string[] {
  const width = pdf.page.width - pdf.page.margins.left - pdf.page.margins.right;
  const lines: string[] = [];
  let line = '';
  for (const word of paragraph.split(' ')) {
    const candidate = line ? `${line} ${word}` : word;
    if (line && pdf.widthOfString(candidate) > width) {
      lines.push(line);
      line = word;
    } else {
      line = candidate;
    }
  }
  if (line) lines.push(line);
  return lines;
}

async function writeDocx(file: string, doc: { title: string; sections: Section[] }): Promise<void> {
  const children: Paragraph[] = [
    new Paragraph({ text: doc.title, heading: HeadingLevel.HEADING_1 }),
  ];
  for (const s of doc.sections) {
    children.push(new Paragraph({ text: s.heading, heading: HeadingLevel.HEADING_2 }));
    for (const p of s.paragraphs) children.push(new Paragraph({ children: [new TextRun(p)] }));
  }
  const document = new Document({
    creator: 'Quarry',
    title: doc.title,
    sections: [{ children }],
  });
  writeFileSync(join(dir, file), await Packer.toBuffer(document));
}

async function main(): Promise<void> {
  await writePdf('sample-en.pdf', PDF_EN, false);
  await writePdf('sample-ko.pdf', PDF_KO, true);
  await writeDocx('sample-en.docx', DOCX_EN);
  await writeDocx('sample-ko.docx', DOCX_KO);
  writeFileSync(
    join(dir, 'sample-ko-utf16le.txt'),
    Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(UTF16_KO, 'utf16le')]),
  );
  writeFileSync(join(dir, 'sample-ko-euckr.txt'), iconv.encode(EUCKR_KO, 'euc-kr'));

  // Corrupt: a real PDF cut short, with its cross-reference table and objects missing.
  const good = readFileSync(join(dir, 'sample-en.pdf'));
  writeFileSync(
    join(dir, 'corrupt.pdf'),
    Buffer.concat([good.subarray(0, 400), Buffer.from('\n%%garbage%%\n')]),
  );

  // Encrypted with a user password, so no reader can open it without the password.
  execFileSync('qpdf', [
    '--encrypt',
    'user-secret',
    'owner-secret',
    '256',
    '--',
    join(dir, 'sample-en.pdf'),
    join(dir, 'encrypted.pdf'),
  ]);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
