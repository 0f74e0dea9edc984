import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeOnnxModel, OnnxNode, OnnxTensor, OnnxType } from './onnx-model-writer';

export interface TinyEmbeddingModelOptions {
  /** hidden size = embedding dimension; default 32 */
  hidden?: number;
  /** whole words in the vocabulary besides characters and `##` pieces */
  words?: readonly string[];
  /** dense `x + tanh(x·W)` layers after the lookup; 0 keeps it a pure bag of tokens */
  layers?: number;
  /** `max_position_embeddings` written to config.json: the model's window */
  maxPositions?: number;
  seed?: number;
  /** `model_type` in config.json */
  modelType?: string;
  /** writes `1_Pooling/config.json` as sentence-transformers does */
  pooling?: 'mean' | 'cls';
  /** name of the ONNX file under `onnx/` */
  onnxFile?: string;
}

export interface TinyEmbeddingModel {
  dir: string;
  dimension: number;
  vocab: Map<string, number>;
  maxPositions: number;
}

const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';
const PUNCTUATION = '.,:;!?-()\'"/';

/** Words of the test corpora and of e5's prefixes; anything else falls back to pieces. */
export const TINY_MODEL_WORDS: readonly string[] = (
  'query passage the a an of to in and or is are was be it on for with as by at from this ' +
  'that these those not no yes can will how what when where why which who do does you your ' +
  'we our they their he she his her its i me my one two three first last new old more most ' +
  'document documents search index indexing chunk chunks text vector vectors model models ' +
  'embedding embeddings semantic keyword hybrid upload uploads worker queue database server ' +
  'volcano volcanoes eruption eruptions ash lava iceland ridge europe airspace cloud magma ' +
  'bread sourdough flour water yeast bake baking loaf oven dough starter salt ' +
  'kimchi cabbage pepper garlic spicy ferment fermented korean food dish ' +
  'debian linux package packages install installing system software free operating apt ' +
  'ocean whale whales sea fish coral reef deep blue swim ' +
  'mountain mountains snow climb climbing summit peak glacier ' +
  'piano music song songs play playing concert orchestra violin ' +
  'rocket rockets launch orbit space moon mars satellite engine fuel ' +
  'garden flowers tree trees plant plants seed seeds grow soil ' +
  'train trains railway station ticket travel city cities map ' +
  'coffee tea cup milk sugar hot cold drink ' +
  'chess game board king queen move moves win ' +
  'rain weather storm wind sun sunny forecast ' +
  'library book books read reading page pages author story'
)
  .split(' ')
  .filter((w) => w.length > 0);

/**
 * Writes a tiny BERT-like embedding model in Hugging Face layout (config.json,
 * tokenizer.json, tokenizer_config.json, onnx/model.onnx) into `dir`: a WordPiece
 * tokenizer of a few hundred tokens and an ONNX graph with BERT's inputs (input_ids,
 * attention_mask, token_type_ids) and output (last_hidden_state). The graph looks up a
 * seeded random vector per token, adds a token-type vector, optionally applies dense
 * layers, and zeroes padded positions: similar texts share tokens, so their mean-pooled
 * vectors are close, which is all an end-to-end test of the path needs.
 */
export function writeTinyEmbeddingModel(
  dir: string,
  options: TinyEmbeddingModelOptions = {},
): TinyEmbeddingModel {
  const hidden = options.hidden ?? 32;
  const maxPositions = options.maxPositions ?? 512;
  const tokens = vocabulary(options.words ?? TINY_MODEL_WORDS);
  const vocab = new Map(tokens.map((t, i) => [t, i]));
  const random = mulberry32(options.seed ?? 19);

  mkdirSync(join(dir, 'onnx'), { recursive: true });
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify(
      {
        architectures: ['BertModel'],
        model_type: options.modelType ?? 'bert',
        hidden_size: hidden,
        max_position_embeddings: maxPositions,
        vocab_size: tokens.length,
        type_vocab_size: 2,
      },
      null,
      2,
    ),
  );
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson(tokens)));
  writeFileSync(
    join(dir, 'tokenizer_config.json'),
    JSON.stringify({ model_max_length: maxPositions, do_lower_case: true }),
  );
  if (options.pooling) {
    mkdirSync(join(dir, '1_Pooling'), { recursive: true });
    writeFileSync(
      join(dir, '1_Pooling', 'config.json'),
      JSON.stringify({
        word_embedding_dimension: hidden,
        pooling_mode_cls_token: options.pooling === 'cls',
        pooling_mode_mean_tokens: options.pooling === 'mean',
      }),
    );
  }
  const onnx = tinyGraph(tokens.length, hidden, options.layers ?? 0, random);
  writeFileSync(join(dir, 'onnx', options.onnxFile ?? 'model.onnx'), onnx);
  return { dir, dimension: hidden, vocab, maxPositions };
}

function vocabulary(words: readonly string[]): string[] {
  const tokens = [...SPECIALS];
  const seen = new Set(tokens);
  const add = (t: string) => {
    if (!seen.has(t)) {
      seen.add(t);
      tokens.push(t);
    }
  };
  for (const c of CHARS + PUNCTUATION) add(c);
  for (const c of CHARS) add(`##${c}`);
  for (const w of words) add(w.toLowerCase());
  return tokens;
}

function tokenizerJson(tokens: string[]): object {
  const special = (content: string, id: number) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const ids = (t: string) => tokens.indexOf(t);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIALS.map((s) => special(s, ids(s))),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [ids('[CLS]')], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [ids('[SEP]')], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(tokens.map((t, i) => [t, i])),
    },
  };
}

function tinyGraph(vocabSize: number, hidden: number, layers: number, random: () => number) {
  const floats = (n: number, scale: number) =>
    Float32Array.from({ length: n }, () => (random() * 2 - 1) * scale);
  const initializers: OnnxTensor[] = [
    {
      name: 'word_embeddings',
      type: OnnxType.float,
      dims: [vocabSize, hidden],
      data: floats(vocabSize * hidden, 1),
    },
    {
      name: 'token_type_embeddings',
      type: OnnxType.float,
      dims: [2, hidden],
      data: floats(2 * hidden, 0.05),
    },
    { name: 'last_axis', type: OnnxType.int64, dims: [1], data: BigInt64Array.from([-1n]) },
  ];
  const nodes: OnnxNode[] = [
    { op: 'Gather', inputs: ['word_embeddings', 'input_ids'], outputs: ['words'] },
    { op: 'Gather', inputs: ['token_type_embeddings', 'token_type_ids'], outputs: ['types'] },
    { op: 'Add', inputs: ['words', 'types'], outputs: ['h0'] },
  ];
  let h = 'h0';
  for (let l = 0; l < layers; l++) {
    initializers.push({
      name: `dense_${l}`,
      type: OnnxType.float,
      dims: [hidden, hidden],
      data: floats(hidden * hidden, 1 / Math.sqrt(hidden)),
    });
    nodes.push(
      { op: 'MatMul', inputs: [h, `dense_${l}`], outputs: [`mm_${l}`] },
      { op: 'Tanh', inputs: [`mm_${l}`], outputs: [`act_${l}`] },
      { op: 'Add', inputs: [h, `act_${l}`], outputs: [`h${l + 1}`] },
    );
    h = `h${l + 1}`;
  }
  nodes.push(
    {
      op: 'Cast',
      inputs: ['attention_mask'],
      outputs: ['mask_f'],
      attributes: [{ name: 'to', int: OnnxType.float }],
    },
    { op: 'Unsqueeze', inputs: ['mask_f', 'last_axis'], outputs: ['mask_3d'] },
    { op: 'Mul', inputs: [h, 'mask_3d'], outputs: ['last_hidden_state'] },
  );
  const sequence = (name: string) => ({
    name,
    type: OnnxType.int64,
    shape: ['batch_size', 'sequence_length'],
  });
  return encodeOnnxModel({
    name: 'tiny-embedding',
    nodes,
    initializers,
    inputs: [sequence('input_ids'), sequence('attention_mask'), sequence('token_type_ids')],
    outputs: [
      {
        name: 'last_hidden_state',
        type: OnnxType.float,
        shape: ['batch_size', 'sequence_length', hidden],
      },
    ],
  });
}

/** Small seeded PRNG, so a model is the same on every run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
