import { Collection, ScoredRecord } from './collection';
import { similarityOf } from './example-queries';
import { expectObject, JsonValue, optionalNumber, optionalUint } from './json-value';
import { QdrantError } from './qdrant-error';

/**
 * Maximal marginal relevance over the `candidates_limit` nearest points, as Qdrant does it:
 * the most relevant first, then each time the candidate with the best
 * λ·relevance − (1−λ)·(highest similarity to one already chosen), λ = 1 − diversity.
 * Points keep their query score; only the order and the selection change.
 */
export function mmrRerank(
  collection: Collection,
  using: string,
  query: Float32Array,
  raw: JsonValue,
  k: number,
  nearest: (candidatesLimit: number) => ScoredRecord[],
): ScoredRecord[] {
  const params = expectObject(raw, 'struct Mmr');
  const diversity = optionalNumber(params.diversity) ?? 0.5;
  if (diversity < 0 || diversity > 1) {
    throw QdrantError.validation(
      'query.mmr.diversity',
      `value ${diversity} invalid, must be from 0.0 to 1.0`,
    );
  }
  const candidatesLimit = optionalUint(params.candidates_limit) ?? k;
  const candidates = nearest(candidatesLimit);
  if (candidates.length < 2) return candidates.slice(0, k);
  const store = collection.dense.get(using)?.store;
  if (!store) throw QdrantError.wrongInput(`Not existing vector name error: ${using}`);
  const similarity = similarityOf(store);
  const slots = candidates.map((c) => c.record.dense.get(using) as number);
  const relevance = slots.map((slot) => similarity(query, slot));
  const lambda = 1 - diversity;
  const chosen: number[] = [];
  const remaining = new Set(candidates.keys());
  // The closest similarity of each remaining candidate to anything chosen so far.
  const closest = new Array<number>(candidates.length).fill(-Infinity);
  let next = relevance.indexOf(Math.max(...relevance));
  while (chosen.length < k && next >= 0) {
    chosen.push(next);
    remaining.delete(next);
    const vector = store.view(slots[next]);
    let best = -1;
    let bestScore = -Infinity;
    for (const i of remaining) {
      closest[i] = Math.max(closest[i], similarity(vector, slots[i]));
      const score = lambda * relevance[i] - (1 - lambda) * closest[i];
      if (score > bestScore) {
        bestScore = score;
        best = i;
      }
    }
    next = best;
  }
  return chosen.map((i) => candidates[i]);
}
