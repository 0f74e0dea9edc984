import type { EmbeddingProvider } from './embedder';

export type EmbeddingPooling = 'mean' | 'cls';

/** Weights of the two ranked lists in hybrid search's reciprocal rank fusion. */
export interface FusionWeights {
  semantic: number;
  keyword: number;
}

/**
 * Everything that decides what vector a text gets and how those vectors are ranked,
 * as plain data (JSON-serialisable), so that it can be stored and compared as a whole:
 * two embedders with equal profiles put equal texts at equal points.
 */
export interface EmbeddingProfile {
  provider: EmbeddingProvider;
  model: string;
  dimension: number;
  /** how token vectors become one text vector (local models only) */
  pooling: EmbeddingPooling;
  /** L2-normalise every vector (Qdrant's cosine needs no more, but dot products do) */
  normalize: boolean;
  /** prepended to search queries, e.g. e5's `query: ` */
  queryPrefix: string;
  /** prepended to chunk text before indexing, e.g. e5's `passage: ` */
  passagePrefix: string;
  fusion: FusionWeights;
}

// The hashing embedder is lexical and weaker than full-text ranking: on the labelled
// search corpus equal weights put hybrid below keyword alone (MRR 0.988 vs 1.000), and
// any keyword weight from 1.25 to 3 (k from 5 to 100) brings it to 1.000.
export const LEXICAL_FUSION: Readonly<FusionWeights> = { semantic: 1, keyword: 1.5 };
// A semantic model finds what keyword ranking cannot (paraphrases, other languages), so
// neither list should outvote the other: equal weights, the usual start for RRF.
export const SEMANTIC_FUSION: Readonly<FusionWeights> = { semantic: 1, keyword: 1 };

interface KnownModel {
  pattern: RegExp;
  pooling: EmbeddingPooling;
  queryPrefix: string;
  passagePrefix: string;
}

// Model families whose model cards prescribe pooling or prefixes. Matched against the
// model name (a Hugging Face id or folder name); the first match wins.
const KNOWN_MODELS: KnownModel[] = [
  {
    pattern: /(^|[/_-])e5([_-]|$)/i,
    pooling: 'mean',
    queryPrefix: 'query: ',
    passagePrefix: 'passage: ',
  },
  { pattern: /(^|[/_-])bge[_-]m3/i, pooling: 'cls', queryPrefix: '', passagePrefix: '' },
  { pattern: /(^|[/_-])bge[_-]/i, pooling: 'cls', queryPrefix: '', passagePrefix: '' },
  { pattern: /gte[_-]/i, pooling: 'mean', queryPrefix: '', passagePrefix: '' },
];

export interface ProfileInput {
  provider: EmbeddingProvider;
  model: string;
  dimension: number;
  /** what the model folder itself says (sentence-transformers' 1_Pooling/config.json) */
  folderPooling?: EmbeddingPooling;
  /** explicit settings win over everything */
  pooling?: EmbeddingPooling;
  normalize?: boolean;
  queryPrefix?: string;
  passagePrefix?: string;
  fusion?: Partial<FusionWeights>;
}

/**
 * The profile for a provider and model: explicit settings, else what the model folder
 * declares, else what the model family's card prescribes, else mean pooling, no
 * prefixes, normalised. Fusion weights favour keyword only for the lexical embedder.
 */
export function embeddingProfile(input: ProfileInput): EmbeddingProfile {
  const known =
    input.provider === 'hashing'
      ? undefined
      : KNOWN_MODELS.find((k) => k.pattern.test(input.model));
  const base = input.provider === 'hashing' ? LEXICAL_FUSION : SEMANTIC_FUSION;
  return {
    provider: input.provider,
    model: input.model,
    dimension: input.dimension,
    pooling: input.pooling ?? input.folderPooling ?? known?.pooling ?? 'mean',
    normalize: input.normalize ?? true,
    queryPrefix: input.queryPrefix ?? known?.queryPrefix ?? '',
    passagePrefix: input.passagePrefix ?? known?.passagePrefix ?? '',
    fusion: {
      semantic: input.fusion?.semantic ?? base.semantic,
      keyword: input.fusion?.keyword ?? base.keyword,
    },
  };
}
