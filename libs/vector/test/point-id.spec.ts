import { pointIdFor, QUARRY_POINT_NAMESPACE, uuidV5 } from '@quarry/vector';

const DNS_NAMESPACE = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
const URL_NAMESPACE = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';

describe('uuidV5', () => {
  // Reference values computed with Python's uuid.uuid5 (RFC 4122 / 9562).
  it.each([
    ['hello', DNS_NAMESPACE, '9342d47a-1bab-5709-9869-c840b2eac501'],
    ['https://www.example.com/', URL_NAMESPACE, '3d3ed9d2-aa3d-5fa6-90e8-ed662e90f559'],
    ['한국어', DNS_NAMESPACE, '7a565fd2-8b30-5bcb-b97c-4cc047f452ff'],
  ])('uuidV5(%j) matches the reference implementation', (name, namespace, expected) => {
    expect(uuidV5(name, namespace)).toBe(expected);
  });

  it('accepts an upper-case namespace', () => {
    expect(uuidV5('hello', DNS_NAMESPACE.toUpperCase())).toBe(
      '9342d47a-1bab-5709-9869-c840b2eac501',
    );
  });

  it('rejects a namespace that is not a UUID', () => {
    expect(() => uuidV5('hello', 'not-a-uuid')).toThrow(/namespace must be a UUID/);
  });
});

describe('pointIdFor', () => {
  const documentId = '0f8fad5b-d9cb-469f-a165-70867728950e';

  it('is uuidV5 of "<document>/<generation>/<ordinal>" in the project namespace', () => {
    // Persisted contract: a change here orphans every stored vector.
    expect(QUARRY_POINT_NAMESPACE).toBe('ba984b8b-ec87-4b0a-8431-b484674de840');
    expect(pointIdFor(documentId, 3, 17)).toBe('659ba097-1c39-5b0c-92cb-9e343ce88672');
  });

  it('is deterministic and case-insensitive in the document id', () => {
    expect(pointIdFor(documentId.toUpperCase(), 1, 0)).toBe(pointIdFor(documentId, 1, 0));
  });

  it('differs per generation and per ordinal', () => {
    const ids = new Set([
      pointIdFor(documentId, 1, 0),
      pointIdFor(documentId, 1, 1),
      pointIdFor(documentId, 2, 0),
      pointIdFor('a2d1c6a4-0000-4000-8000-000000000000', 1, 0),
    ]);
    expect(ids.size).toBe(4);
  });

  it('produces version-5, RFC-variant UUIDs', () => {
    expect(pointIdFor(documentId, 0, 0)).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('rejects negative or fractional generations and ordinals', () => {
    expect(() => pointIdFor(documentId, -1, 0)).toThrow(TypeError);
    expect(() => pointIdFor(documentId, 1, 0.5)).toThrow(TypeError);
  });
});
