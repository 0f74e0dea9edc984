import { compileFilter } from './filter-evaluator';
import { QdrantError } from './qdrant-error';

const ctx = { textIndexed: (key: string) => key === 'indexed' };
const matches = (filter: unknown, payload: Record<string, unknown>, id: number | string = 1) =>
  (compileFilter(filter, 'filter', ctx) as (t: unknown) => boolean)({
    id,
    payload,
    hasVector: (n: string) => n === 'v',
  });

describe('compileFilter', () => {
  it('returns null for no filter', () => {
    expect(compileFilter(undefined, 'filter', ctx)).toBeNull();
  });

  it('evaluates match, range and arrays with any-element semantics', () => {
    expect(matches({ must: [{ key: 'a', match: { value: 2 } }] }, { a: [1, 2] })).toBe(true);
    expect(matches({ must: [{ key: 'a', match: { value: 3 } }] }, { a: [1, 2] })).toBe(false);
    expect(matches({ must: [{ key: 'a', range: { gt: 1 } }] }, { a: [0, 5] })).toBe(true);
    expect(matches({ must: [{ key: 'a', range: { gt: 1 } }] }, {})).toBe(false);
    expect(matches({ must: { key: 'a', match: { value: 'x' } } }, { a: 'x' })).toBe(true);
  });

  it('uses token matching on text-indexed fields and substring matching otherwise', () => {
    expect(
      matches(
        { must: [{ key: 'indexed', match: { text: 'fox quick' } }] },
        { indexed: 'The quick brown fox' },
      ),
    ).toBe(true);
    expect(
      matches(
        { must: [{ key: 'plain', match: { text: 'fox quick' } }] },
        { plain: 'The quick brown fox' },
      ),
    ).toBe(false);
    expect(
      matches(
        { must: [{ key: 'plain', match: { text: 'k bro' } }] },
        { plain: 'The quick brown fox' },
      ),
    ).toBe(true);
  });

  it('supports has_vector and has_id', () => {
    expect(matches({ must: [{ has_vector: 'v' }] }, {})).toBe(true);
    expect(matches({ must: [{ has_vector: 'w' }] }, {})).toBe(false);
    expect(
      matches(
        { must: [{ has_id: ['6B9AD3A4-43C5-4B6C-A3D1-9B5EF8D0E001'] }] },
        {},
        '6b9ad3a4-43c5-4b6c-a3d1-9b5ef8d0e001',
      ),
    ).toBe(true);
  });

  it('throws 422 for a key-only condition and 400 for an unknown condition', () => {
    const keyOnly = () => compileFilter({ should: [{ key: 'a' }] }, 'filter', ctx);
    expect(keyOnly).toThrow(QdrantError);
    expect(keyOnly).toThrow(
      /^Validation error in JSON body: \[filter\.should\[0\]: At least one field condition must be specified\]$/,
    );
    try {
      compileFilter({ must: [{ bogus: 1 }] }, 'filter', ctx);
      throw new Error('expected a format error');
    } catch (err) {
      expect((err as QdrantError).statusCode).toBe(400);
    }
  });
});
