import { ScoredRecord } from './collection';
import { comparePointIds, PointId } from './point-id';

function byScore(a: ScoredRecord, b: ScoredRecord): number {
  return a.score === b.score ? comparePointIds(a.record.id, b.record.id) : b.score - a.score;
}

function sumPerPoint(lists: ScoredRecord[][], scoreOf: (list: number, rank: number) => number) {
  const scores = new Map<PointId, ScoredRecord>();
  lists.forEach((list, l) => {
    list.forEach((hit, rank) => {
      const entry = scores.get(hit.record.id) ?? { record: hit.record, score: 0 };
      entry.score += scoreOf(l, rank);
      scores.set(hit.record.id, entry);
    });
  });
  return [...scores.values()]
    .map((e) => ({ record: e.record, score: Math.fround(e.score) }))
    .sort(byScore);
}

/** Reciprocal rank fusion: each list adds weight / (k + position), position counted from 1. */
export function fuseRrf(lists: ScoredRecord[][], k: number, weights?: number[]): ScoredRecord[] {
  return sumPerPoint(lists, (list, rank) => (weights ? weights[list] : 1) / (k + rank + 1));
}

/**
 * Distribution-based score fusion: each list's scores are mapped from mean ± 3 standard
 * deviations onto [0, 1], then summed per point.
 */
export function fuseDbsf(lists: ScoredRecord[][]): ScoredRecord[] {
  const normalised = lists.map((list) => {
    const n = list.length;
    const mean = list.reduce((sum, h) => sum + h.score, 0) / Math.max(n, 1);
    const variance = n > 1 ? list.reduce((sum, h) => sum + (h.score - mean) ** 2, 0) / (n - 1) : 0;
    const std = Math.sqrt(variance);
    const low = mean - 3 * std;
    const high = mean + 3 * std;
    return list.map((h) =>
      high === low ? 0.5 : Math.min(1, Math.max(0, (h.score - low) / (high - low))),
    );
  });
  return sumPerPoint(lists, (list, rank) => normalised[list][rank]);
}
