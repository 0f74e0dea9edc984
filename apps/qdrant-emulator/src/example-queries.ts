import { Collection, PointRecord, ScoredRecord } from './collection';
import { DenseVectorStore } from './dense-vector-store';
import { Predicate } from './filter-evaluator';
import { expectArray, expectObject, isObject, JsonObject, JsonValue } from './json-value';
import { comparePointIds, parsePointId, PointId } from './point-id';
import { QdrantError } from './qdrant-error';
import { isSparseInput } from './request-parsing';
import { unsupportedFeature } from './unsupported-routes';

/** f32::EPSILON, the margin Qdrant's context loss subtracts. */
const F32_EPSILON = 1.1920929e-7;

const fastSigmoid = (x: number): number => x / (1 + Math.abs(x));
const scaledFastSigmoid = (x: number): number => 0.5 * (fastSigmoid(x) + 1);

/**
 * Where example vectors come from: the queried collection, or `lookup_from`'s. Point ids
 * given as examples in the queried collection itself are left out of the results.
 */
export interface ExampleSource {
  target: Collection;
  using: string;
  lookup: Collection;
  lookupUsing: string;
  excluded: Set<PointId>;
}

function storeOf(collection: Collection, using: string): DenseVectorStore {
  const index = collection.dense.get(using);
  if (!index) {
    if (collection.sparseNames.has(using))
      throw unsupportedFeature(`Querying the sparse vector ${using} by examples`);
    throw QdrantError.wrongInput(`Not existing vector name error: ${using}`);
  }
  return index.store;
}

/** One VectorInput as a prepared dense vector (normalised for Cosine, as stored vectors are). */
export function exampleVector(source: ExampleSource, raw: JsonValue): Float32Array {
  const store = storeOf(source.target, source.using);
  if (Array.isArray(raw)) {
    const numbers = raw.map((v) => {
      if (typeof v !== 'number')
        throw QdrantError.format('data did not match any variant of untagged enum VectorInput');
      return v;
    });
    if (numbers.length !== store.dim) {
      throw QdrantError.wrongInput(
        `Vector dimension error: expected dim: ${store.dim}, got ${numbers.length}`,
      );
    }
    return store.prepare(numbers);
  }
  if (typeof raw === 'number' || typeof raw === 'string') {
    const id = parsePointId(raw);
    const record = source.lookup.points.get(id);
    if (!record) throw QdrantError.notFound(`No point with id ${id} found`);
    const lookupStore = storeOf(source.lookup, source.lookupUsing);
    const slot = record.dense.get(source.lookupUsing);
    if (slot === undefined)
      throw QdrantError.wrongInput(`Vector ${source.lookupUsing} is not found for point ${id}`);
    if (lookupStore.dim !== store.dim) {
      throw QdrantError.wrongInput(
        `Vector dimension error: expected dim: ${store.dim}, got ${lookupStore.dim}`,
      );
    }
    if (source.lookup === source.target) source.excluded.add(id);
    return store.prepare(lookupStore.view(slot));
  }
  if (isSparseInput(raw)) throw unsupportedFeature('A sparse example vector');
  throw QdrantError.format('data did not match any variant of untagged enum VectorInput');
}

function examples(source: ExampleSource, raw: JsonValue | undefined): Float32Array[] {
  if (raw === undefined || raw === null) return [];
  return expectArray(raw).map((v) => exampleVector(source, v));
}

/** How many hits a query keeps, within which points, above which score. */
export interface SearchBounds {
  k: number;
  filter: Predicate | null;
  threshold: number | undefined;
}

/** Qdrant's internal similarity: larger is better, so distances are negated. */
export function similarityOf(
  store: DenseVectorStore,
): (vector: Float32Array, slot: number) => number {
  const negate = store.distance === 'Euclid' || store.distance === 'Manhattan';
  return negate
    ? (vector, slot) => -store.exactScore(vector, slot)
    : (vector, slot) => store.exactScore(vector, slot);
}

/** Scores every eligible point with a custom objective and keeps the best k. */
function scoreAll(
  source: ExampleSource,
  score: (slot: number) => number,
  { k, filter, threshold }: SearchBounds,
): ScoredRecord[] {
  const found: ScoredRecord[] = [];
  for (const record of source.target.select(filter)) {
    if (source.excluded.has(record.id)) continue;
    const slot = record.dense.get(source.using);
    if (slot === undefined) continue;
    const value = Math.fround(score(slot));
    if (threshold !== undefined && value < threshold) continue;
    found.push({ record, score: value });
  }
  found.sort((a, b) =>
    a.score === b.score ? comparePointIds(a.record.id, b.record.id) : b.score - a.score,
  );
  return found.slice(0, k);
}

function excluding(filter: Predicate | null, excluded: Set<PointId>): Predicate | null {
  if (excluded.size === 0) return filter;
  const keep: Predicate = (t) => !excluded.has((t as PointRecord).id) && (!filter || filter(t));
  if (filter?.candidates) keep.candidates = filter.candidates;
  return keep;
}

/** `recommend`: average_vector searches one vector; best_score and sum_scores score every point. */
export function recommend(
  source: ExampleSource,
  raw: JsonValue,
  bounds: SearchBounds,
): ScoredRecord[] {
  const body = expectObject(raw, 'struct RecommendInput');
  const positive = examples(source, body.positive);
  const negative = examples(source, body.negative);
  const strategy = body.strategy ?? 'average_vector';
  const store = storeOf(source.target, source.using);
  const similarity = similarityOf(store);
  if (strategy === 'average_vector') {
    if (positive.length === 0)
      throw QdrantError.badRequest('At least one positive vector ID required');
    const average = (vectors: Float32Array[]) => {
      const sum = new Float64Array(store.dim);
      for (const v of vectors) for (let i = 0; i < sum.length; i++) sum[i] += v[i];
      return sum.map((x) => x / vectors.length);
    };
    const pos = average(positive);
    const neg = negative.length === 0 ? null : average(negative);
    // query = avg_pos + avg_pos - avg_neg
    const query = neg === null ? pos : pos.map((x, i) => 2 * x - neg[i]);
    return source.target.searchDense(
      source.using,
      store.prepare(query),
      bounds.k,
      excluding(bounds.filter, source.excluded),
      bounds.threshold,
    );
  }
  if (strategy === 'best_score') {
    return scoreAll(
      source,
      (slot) => {
        let maxPositive = -Infinity;
        let maxNegative = -Infinity;
        for (const v of positive) maxPositive = Math.max(maxPositive, similarity(v, slot));
        for (const v of negative) maxNegative = Math.max(maxNegative, similarity(v, slot));
        return maxPositive > maxNegative
          ? scaledFastSigmoid(maxPositive)
          : -scaledFastSigmoid(maxNegative);
      },
      bounds,
    );
  }
  if (strategy === 'sum_scores') {
    return scoreAll(
      source,
      (slot) => {
        let sum = 0;
        for (const v of positive) sum += similarity(v, slot);
        for (const v of negative) sum -= similarity(v, slot);
        return sum;
      },
      bounds,
    );
  }
  throw QdrantError.format(
    `unknown variant \`${String(strategy)}\`, expected one of \`average_vector\`, \`best_score\`, \`sum_scores\``,
  );
}

interface Pair {
  positive: Float32Array;
  negative: Float32Array;
}

function pairs(source: ExampleSource, raw: JsonValue | undefined): Pair[] {
  if (raw === undefined || raw === null) return [];
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((p) => {
    const pair: JsonObject = expectObject(p, 'struct ContextPair');
    if (pair.positive === undefined) throw QdrantError.format('missing field `positive`');
    if (pair.negative === undefined) throw QdrantError.format('missing field `negative`');
    return {
      positive: exampleVector(source, pair.positive),
      negative: exampleVector(source, pair.negative),
    };
  });
}

/** `discover`: the number of pairs a point sides with, plus its sigmoid closeness to the target. */
export function discover(
  source: ExampleSource,
  raw: JsonValue,
  bounds: SearchBounds,
): ScoredRecord[] {
  if (!isObject(raw)) throw QdrantError.format('invalid type: expected struct DiscoverInput');
  if (raw.target === undefined) throw QdrantError.format('missing field `target`');
  const target = exampleVector(source, raw.target);
  const context = pairs(source, raw.context);
  const similarity = similarityOf(storeOf(source.target, source.using));
  return scoreAll(
    source,
    (slot) => {
      let rank = 0;
      for (const pair of context) {
        const difference = similarity(pair.positive, slot) - similarity(pair.negative, slot);
        rank += difference > 0 ? 1 : difference < 0 ? -1 : 0;
      }
      return rank + scaledFastSigmoid(similarity(target, slot));
    },
    bounds,
  );
}

/** `context`: the summed loss of the pairs a point does not side with (0 inside every zone). */
export function context(
  source: ExampleSource,
  raw: JsonValue,
  bounds: SearchBounds,
): ScoredRecord[] {
  const context = pairs(source, raw);
  const similarity = similarityOf(storeOf(source.target, source.using));
  return scoreAll(
    source,
    (slot) => {
      let loss = 0;
      for (const pair of context) {
        const difference =
          similarity(pair.positive, slot) - similarity(pair.negative, slot) - F32_EPSILON;
        loss += fastSigmoid(Math.min(difference, 0));
      }
      return loss;
    },
    bounds,
  );
}
