import { removePageFurniture } from './page-furniture';

const SENTENCES = [
  'The reconciler compares every document with the points in the vector index.',
  'A snapshot is taken while the queues are paused, so nothing moves underneath it.',
  'Uploads are answered at once; a worker extracts and embeds them in the background.',
  'Each worker renews its lock while it parses, so no job is declared stalled.',
  'Search keeps only chunks whose document is completed at its current generation.',
  'Tombstones are purged after the retention period by the maintenance queue.',
  'A dropped connection is thrown away and never handed out again.',
  'Deleting a document bumps its generation before cleanup removes its points.',
];
const body = (n: number) =>
  [SENTENCES[n % 8], SENTENCES[(n + 3) % 8], SENTENCES[(n + 5) % 8]].join('\n');

describe('removePageFurniture', () => {
  it('drops running headers and footers that repeat on most pages, page numbers included', () => {
    const pages = [1, 2, 3, 4, 5, 6].map((n) =>
      [
        n % 2 === 0 ? 'Quarry Operations Manual' : `Chapter ${Math.ceil(n / 2)}: Recovery`,
        body(n),
        `Page ${n} of 6`,
      ].join('\n'),
    );
    expect(removePageFurniture(pages)).toEqual([1, 2, 3, 4, 5, 6].map(body));
  });

  it.each([
    ['bare numbers', (n: number) => String(n)],
    ['dashed numbers', (n: number) => `- ${n} -`],
    ['roman numerals', (n: number) => ['i', 'ii', 'iii', 'iv', 'v'][n - 1]],
    ['"N / M"', (n: number) => `${n} / 5`],
    ['Korean pages', (n: number) => `${n}쪽`],
  ])('drops page numbers written as %s', (_name, number) => {
    const pages = [1, 2, 3, 4, 5].map((n) => `${body(n)}\n${number(n)}`);
    expect(removePageFurniture(pages)).toEqual([1, 2, 3, 4, 5].map(body));
  });

  it('keeps lines that repeat only on a few pages, and everything of short documents', () => {
    const pages = [1, 2, 3, 4, 5, 6, 7, 8].map((n) =>
      n <= 2 ? `Warning: back up first\n${body(n)}` : body(n),
    );
    expect(removePageFurniture(pages)).toEqual(pages);
    const short = ['Manual\nFirst page text.\n1', 'Manual\nSecond page text.\n2'];
    expect(removePageFurniture(short)).toEqual(short);
  });

  it('drops a dot-leader table of contents with its title and wrapped entries', () => {
    const toc = [
      'Table of Contents',
      '1 Introduction . . . . . . . . . . . . 1',
      '2 Installing on a machine without network access and with a',
      'read-only file system . . . . . . . . . 4',
      '7.2 What is the format of the dump .......................... 41',
      'Appendix A Glossary … … … xii',
    ].join('\n');
    const [first, second] = removePageFurniture([toc, body(2)]);
    expect(first).toBe('');
    expect(second).toBe(body(2));
  });

  it('keeps a lone dot-leader line and sentences ending in numbers', () => {
    const pages = ['Fill in the form . . . . . . 3\n\nThe release shipped in 2024.', body(2)];
    expect(removePageFurniture(pages)).toEqual(pages);
  });

  it('joins words hyphenated across a line break, and only those', () => {
    const [page] = removePageFurniture([
      'The reconciler compares every docu-\nment with its points, in Jean-\nPaul’s words, from 2-\n3 times a day; the API-\nkey and the state-\nMachine stay.',
    ]);
    expect(page).toBe(
      'The reconciler compares every document with its points, in Jean-\nPaul’s words, from 2-\n3 times a day; the API-\nkey and the state-\nMachine stay.',
    );
  });

  it('leaves a dash after a space alone, on any script', () => {
    const pages = removePageFurniture([
      '데비안은 자유 소프트웨어 운영체제이다 -\n다음 줄',
      'infra-\nstructure',
    ]);
    expect(pages).toEqual(['데비안은 자유 소프트웨어 운영체제이다 -\n다음 줄', 'infrastructure']);
  });

  it('leaves pages without furniture as they are', () => {
    const pages = [1, 2, 3, 4].map(body);
    expect(removePageFurniture(pages)).toEqual(pages);
    expect(removePageFurniture([])).toEqual([]);
  });
});
