import { PointRecord, ScoredRecord } from './collection';
import { fuseDbsf, fuseRrf } from './score-fusion';

const hits = (...entries: Array<[number, number]>): ScoredRecord[] =>
  entries.map(([id, score]) => ({ record: new PointRecord(id), score }));
const ids = (list: ScoredRecord[]) => list.map((h) => h.record.id);

describe('score fusion', () => {
  it('sums reciprocal ranks, weighted per list, ties by id', () => {
    const a = hits([1, 0.9], [2, 0.8]);
    const b = hits([2, 0.7], [3, 0.6]);
    const plain = fuseRrf([a, b], 2);
    expect(ids(plain)).toEqual([2, 1, 3]);
    expect(plain[0].score).toBeCloseTo(1 / 4 + 1 / 3, 6);
    // weight 5 on the first list lifts 1 (5/3) above 2 (5/4 + 1/3)
    expect(ids(fuseRrf([a, b], 2, [5, 1]))).toEqual([1, 2, 3]);
  });

  it('maps each list onto mean ± 3 sd before summing, and a flat list to 0.5', () => {
    const fused = fuseDbsf([hits([1, 10], [2, 0], [3, 5]), hits([4, 1])]);
    expect(ids(fused)).toEqual([1, 3, 4, 2]);
    expect(fused[1].score).toBeCloseTo(0.5, 6);
    expect(fused[2].score).toBeCloseTo(0.5, 6);
    expect(fused.every((h) => h.score >= 0 && h.score <= 1)).toBe(true);
  });
});
