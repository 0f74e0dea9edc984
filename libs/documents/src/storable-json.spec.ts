import { DomainError } from './domain-errors';
import { assertStorableJson, jsonShapeProblem, unstorableText } from './storable-json';

describe('jsonShapeProblem', () => {
  const limits = { maxDepth: 4, maxValues: 10 };

  it('measures nesting outside strings only', () => {
    expect(jsonShapeProblem('{"a":[[1]]}', limits)).toBeNull();
    expect(jsonShapeProblem('{"a":"[[[[[[[[[["}', limits)).toBeNull();
    expect(jsonShapeProblem('[[[[[1]]]]]', limits)).toBe('nests deeper than 4 levels');
    expect(jsonShapeProblem('{"a\\"[[[[[":1}', limits)).toBeNull();
  });

  it('counts values, so a small body cannot become millions of objects', () => {
    expect(jsonShapeProblem(`[${'{},'.repeat(10)}{}]`, limits)).toBe('holds more than 10 values');
    expect(jsonShapeProblem('{"text":"a,b,c,d,e,f,g,h,i,j,k,l"}', limits)).toBeNull();
  });

  it('takes a megabyte of nesting in one linear pass', () => {
    const deep = Buffer.from('['.repeat(1_000_000));
    expect(jsonShapeProblem(deep, { maxDepth: 32, maxValues: 100 })).toMatch(/deeper/);
  });
});

describe('storable text and JSON', () => {
  it('finds NUL and unpaired surrogates, and accepts paired ones', () => {
    expect(unstorableText('fine 한국어 😀')).toBeNull();
    expect(unstorableText('a\u0000b')).toBe('a NUL character');
    expect(unstorableText('a\ud800b')).toBe('an unpaired UTF-16 surrogate');
    expect(unstorableText('a\udc00')).toBe('an unpaired UTF-16 surrogate');
  });

  it('refuses a value PostgreSQL would refuse, naming the field and not the value', () => {
    const refused = (value: unknown): string => {
      try {
        assertStorableJson(value, 'metadata', 3);
      } catch (err) {
        expect(err).toBeInstanceOf(DomainError);
        return (err as Error).message;
      }
      return 'accepted';
    };
    expect(refused({ a: ['x', { b: 'y' }] })).toBe('accepted');
    expect(refused({ a: 'SECRET\u0000' })).toBe('metadata contains a NUL character');
    expect(refused({ ['k\ud800']: 1 })).toBe(
      'metadata has a key with an unpaired UTF-16 surrogate',
    );
    expect(refused({ a: { b: { c: { d: 1 } } } })).toBe('metadata nests deeper than 3 levels');
  });
});
