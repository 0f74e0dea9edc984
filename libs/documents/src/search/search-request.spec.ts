import { DomainError } from '../domain-errors';
import { decodeCursor, encodeCursor, isAfter, searchFingerprint } from './search-cursor';
import { validateSearch } from './search-request';

const bad = (request: unknown) => {
  try {
    validateSearch(request as never, 10_000);
  } catch (err) {
    return err instanceof DomainError && err.kind === 'bad-input' ? err.message : 'other error';
  }
  return 'accepted';
};

describe('validateSearch', () => {
  it('applies defaults', () => {
    expect(validateSearch({ query: '  데비안  ' }, 10_000)).toMatchObject({
      query: '데비안',
      mode: 'hybrid',
      limit: 10,
      offset: 0,
    });
  });

  it.each([
    [{ query: '' }, /query/],
    [{ query: ' \t' }, /query/],
    [{ query: 'x', limit: 0 }, /limit/],
    [{ query: 'x', limit: 101 }, /limit/],
    [{ query: 'x', mode: 'fuzzy' }, /mode/],
    [{ query: 'x', offset: 10_001 }, /offset/],
    [{ query: 'x', cursor: 'a', offset: 1 }, /cursor or offset/],
    [{ query: 'x', collection_ids: [] }, /collection_ids/],
    [{ query: 'x', filter: [] }, /filter must be an object/],
    [{ query: 'x', sort: 'date' }, /search request has unknown fields: sort/],
    [{ query: 'x', filter: { tags: 'a' } }, /unknown fields: tags/],
    [{ query: 'x', filter: { metadata: { a: null } } }, /filter\.metadata\.a/],
    [{ query: 'x', filter: { metadata: { a: { in: [{}] } } } }, /filter\.metadata\.a\.in/],
    [{ query: 'x', filter: { metadata: { a: { in: [1], nin: [2] } } } }, /unknown fields: nin/],
    [{ query: 'x', filter: { mime_type: [] } }, /mime_type/],
    [{ query: 'x', filter: { created_at: {} } }, /gte, lte or both/],
    [{ query: 'x', filter: { created_at: { gte: 'soon' } } }, /created_at\.gte/],
    [
      { query: 'x', filter: { created_at: { gte: '2026-02-01', lte: '2026-01-01' } } },
      /not be after/,
    ],
  ])('refuses %j', (request, message) => {
    expect(bad(request)).toMatch(message);
  });

  it('accepts a full filter', () => {
    const valid = validateSearch(
      {
        query: 'x',
        filter: {
          metadata: { team: 'infra', year: { in: [2025, 2026] }, draft: false },
          mime_type: 'text/plain',
          created_at: { gte: '2026-01-01', lte: '2026-12-31T23:59:59Z' },
        },
      },
      10_000,
    );
    expect(valid.filter).toMatchObject({
      metadataEquals: [
        { key: 'team', value: 'infra' },
        { key: 'draft', value: false },
      ],
      metadataIn: [{ key: 'year', values: [2025, 2026] }],
      mimeTypes: ['text/plain'],
    });
  });
});

describe('search cursor', () => {
  it('round-trips and rejects tampering', () => {
    const cursor = {
      mode: 'semantic' as const,
      fingerprint: searchFingerprint({ q: 'a' }),
      position: 20,
      score: 0.123456789,
      id: '0b0f1c4e-7d8e-5a4b-9c1d-2e3f4a5b6c7d',
      rawOffset: 41,
    };
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
    expect(() => decodeCursor('e30')).toThrow(DomainError);
    expect(() => decodeCursor('not a cursor!')).toThrow(/cursor/);
  });

  it('fingerprints ignore key order', () => {
    expect(searchFingerprint({ a: 1, b: [1, 2] })).toBe(searchFingerprint({ b: [1, 2], a: 1 }));
    expect(searchFingerprint({ a: 1 })).not.toBe(searchFingerprint({ a: 2 }));
  });

  it('orders by score desc then id asc', () => {
    const at = { score: 0.5, id: 'm' };
    expect(isAfter(at, 0.4, 'a')).toBe(true);
    expect(isAfter(at, 0.5, 'n')).toBe(true);
    expect(isAfter(at, 0.5, 'm')).toBe(false);
    expect(isAfter(at, 0.6, 'z')).toBe(false);
  });
});
