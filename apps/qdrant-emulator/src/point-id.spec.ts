import { comparePointIds, parsePathPointId, parsePointId } from './point-id';

describe('point ids', () => {
  it('accepts unsigned integers and UUIDs in any accepted spelling, canonicalised', () => {
    const canonical = '550e8400-e29b-41d4-a716-446655440000';
    expect(parsePointId(0)).toBe(0);
    expect(parsePointId(42)).toBe(42);
    for (const spelling of [
      '550E8400-E29B-41D4-A716-446655440000',
      '550e8400e29b41d4a716446655440000',
      '{550e8400-e29b-41d4-a716-446655440000}',
      'urn:uuid:550e8400-e29b-41d4-a716-446655440000',
    ]) {
      expect(parsePointId(spelling)).toBe(canonical);
    }
    expect(parsePathPointId('17')).toBe(17);
  });

  it('rejects negative, fractional and non-UUID ids with 400', () => {
    for (const bad of [-1, 1.5, 'abc', '550e8400-e29b-41d4-a716', true, null]) {
      expect(() => parsePointId(bad)).toThrow(expect.objectContaining({ statusCode: 400 }));
    }
  });

  it('orders integers before UUIDs', () => {
    const ids = [
      'b0000000-0000-4000-8000-000000000000',
      10,
      'a0000000-0000-4000-8000-000000000000',
      2,
    ];
    expect(ids.sort(comparePointIds)).toEqual([
      2,
      10,
      'a0000000-0000-4000-8000-000000000000',
      'b0000000-0000-4000-8000-000000000000',
    ]);
  });
});
