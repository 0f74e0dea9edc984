import {
  containsPattern,
  highlightsOf,
  keywordTerms,
  termTsquery,
  trigramIndexable,
} from './keyword-terms';

describe('keywordTerms', () => {
  it('strips Korean particles so 데비안은 and 데비안을 match 데비안', () => {
    expect(keywordTerms('데비안은').map((t) => t.stem)).toEqual(['데비안']);
    expect(keywordTerms('데비안을 서울에서').map((t) => t.stem)).toEqual(['데비안', '서울']);
    // a two-syllable word keeps its last syllable even when it looks like a particle
    expect(keywordTerms('나는').map((t) => t.stem)).toEqual(['나는']);
  });

  it('drops English function words unless nothing else is left', () => {
    expect(keywordTerms('how does the borrow checker work').map((t) => t.word)).toEqual([
      'borrow',
      'checker',
      'work',
    ]);
    expect(keywordTerms('the').map((t) => t.word)).toEqual(['the']);
  });

  it('folds English plurals and duplicates', () => {
    expect(keywordTerms('Documents document queries').map((t) => t.stem)).toEqual([
      'document',
      'query',
    ]);
  });

  it('keeps only letters and digits, so nothing reaches tsquery syntax', () => {
    expect(
      keywordTerms(`a' | b:* & !c (d) <-> "e"`).every((t) => /^[\p{L}\p{N}]+$/u.test(t.stem)),
    ).toBe(true);
    expect(keywordTerms('!!! ...')).toEqual([]);
  });
});

describe('termTsquery and containsPattern', () => {
  it('matches Korean stems as word prefixes and other words exactly', () => {
    const [debian, documents, io] = keywordTerms('데비안은 documents io');
    expect(termTsquery(debian)).toBe('데비안:*');
    expect(termTsquery(documents)).toBe('(documents | document)');
    expect(termTsquery(io)).toBe('io');
  });

  it('escapes LIKE wildcards', () => {
    expect(containsPattern('50%_a\\b')).toBe('%50\\%\\_a\\\\b%');
  });

  it('sends only Hangul-only stems of three syllables or more to the Hangul trigram index', () => {
    expect(trigramIndexable('데비안')).toBe(true);
    expect(trigramIndexable('리눅스배포판')).toBe(true);
    // too short for a trigram, or holding characters the index does not cover
    expect(trigramIndexable('쿼리')).toBe(false);
    expect(trigramIndexable('3학년생')).toBe(false);
    expect(trigramIndexable('windows용')).toBe(false);
    expect(trigramIndexable('debian')).toBe(false);
  });
});

describe('highlightsOf', () => {
  it('marks every occurrence of each stem, merged and in order', () => {
    const text = '데비안을 설치한 뒤 데비안의 Debian packages';
    const ranges = highlightsOf(text, keywordTerms('데비안은 debian'));
    expect(ranges.map((r) => text.slice(r.start, r.end))).toEqual(['데비안', '데비안', 'Debian']);
  });

  it('merges overlapping matches', () => {
    const ranges = highlightsOf('borrowing', keywordTerms('borrow borrowing'));
    expect(ranges).toEqual([{ start: 0, end: 9 }]);
  });
});
