import { maxFusedScore, reciprocalRankFusion } from './rank-fusion';

const ids = (...names: string[]) => names.map((id) => ({ id }));

describe('reciprocalRankFusion', () => {
  it('sums weight / (k + rank) over the lists an item appears in', () => {
    const fused = reciprocalRankFusion([ids('a', 'b', 'c'), ids('c', 'a')], {
      k: 60,
      weights: [1, 1],
    });
    expect(fused.map((f) => f.item.id)).toEqual(['a', 'c', 'b']);
    expect(fused[0].score).toBeCloseTo(1 / 61 + 1 / 62, 12);
    expect(fused[0].ranks).toEqual([1, 2]);
    expect(fused[2].ranks).toEqual([2, null]);
  });

  it('weights a list up', () => {
    const fused = reciprocalRankFusion([ids('a', 'b'), ids('b', 'a')], { k: 60, weights: [1, 2] });
    expect(fused[0].item.id).toBe('b');
  });

  it('counts an item once per list and orders ties by id', () => {
    const fused = reciprocalRankFusion([ids('b', 'b'), ids('a')], { k: 10, weights: [1, 1] });
    expect(fused.map((f) => [f.item.id, f.score])).toEqual([
      ['a', 1 / 11],
      ['b', 1 / 11],
    ]);
  });

  it('scales to 1 for first place everywhere', () => {
    expect(maxFusedScore({ k: 60, weights: [1, 1.5] })).toBeCloseTo(2.5 / 61, 12);
  });
});
