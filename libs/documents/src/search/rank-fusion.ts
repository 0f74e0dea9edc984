export interface Ranked {
  id: string;
}

export interface FusedEntry<T extends Ranked> {
  item: T;
  /** Σ weight / (k + rank) over the lists the item appears in */
  score: number;
  /** 1-based rank in each list, or null where absent */
  ranks: (number | null)[];
}

/**
 * Reciprocal rank fusion (Cormack et al., 2009): only ranks matter, so scores on
 * different scales (cosine, text rank) combine without calibration. Items are matched
 * by id; the first list that holds an item provides it. Ordered by score, then id.
 */
export function reciprocalRankFusion<T extends Ranked>(
  lists: readonly (readonly T[])[],
  { k, weights }: { k: number; weights: readonly number[] },
): FusedEntry<T>[] {
  const byId = new Map<string, FusedEntry<T>>();
  lists.forEach((list, listIndex) => {
    const weight = weights[listIndex] ?? 1;
    list.forEach((item, position) => {
      let entry = byId.get(item.id);
      if (!entry) {
        entry = { item, score: 0, ranks: lists.map(() => null) };
        byId.set(item.id, entry);
      }
      if (entry.ranks[listIndex] !== null) return;
      entry.ranks[listIndex] = position + 1;
      entry.score += weight / (k + position + 1);
    });
  });
  return [...byId.values()].sort(
    (a, b) => b.score - a.score || (a.item.id < b.item.id ? -1 : a.item.id > b.item.id ? 1 : 0),
  );
}

/** The best possible fused score (rank 1 everywhere), to scale fused scores into 0–1. */
export function maxFusedScore({ k, weights }: { k: number; weights: readonly number[] }): number {
  return weights.reduce((sum, w) => sum + w / (k + 1), 0);
}
