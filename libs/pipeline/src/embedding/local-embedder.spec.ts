import { Tokenizer } from '@huggingface/tokenizers';
import { Test } from '@nestjs/testing';
import { writeTinyEmbeddingModel, type TinyEmbeddingModel } from '@quarry/testing';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  EmbedderUnavailableError,
  EmbeddingDimensionMismatchError,
  EmbeddingModelError,
  isPermanent,
} from '../pipeline-errors';
import { EMBEDDER, PipelineModule } from '../pipeline.module';
import { createEmbedder } from './embedder-factory';
import { embeddingProfile, LEXICAL_FUSION, SEMANTIC_FUSION } from './embedding-profile';
import { HashingEmbedder } from './hashing-embedder';
import { LocalEmbedder, MAX_WINDOWS_PER_TEXT } from './local-embedder';
import { combineWindows, normalizeInPlace, pool, TokenWindows } from './local-inference';

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

describe('local embedder (a tiny model built by the test)', () => {
  let root: string;
  let tiny: TinyEmbeddingModel;
  const open: LocalEmbedder[] = [];
  const make = (options: Partial<ConstructorParameters<typeof LocalEmbedder>[0]> = {}) => {
    const e = new LocalEmbedder({ modelPath: tiny.dir, ...options });
    open.push(e);
    return e;
  };
  const model = (name: string, options: Parameters<typeof writeTinyEmbeddingModel>[1] = {}) =>
    writeTinyEmbeddingModel(join(root, name), options);

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'quarry-local-embed-'));
    tiny = model('tiny-bert', { layers: 1 });
  });

  afterAll(async () => {
    await Promise.all(open.map((e) => e.close()));
    rmSync(root, { recursive: true, force: true });
  });

  describe('tokenisation and windows', () => {
    const tokenizer = () =>
      new Tokenizer(JSON.parse(readFileSync(join(tiny.dir, 'tokenizer.json'), 'utf8')), {});
    const id = (t: string) => tiny.vocab.get(t)!;

    it('wraps WordPiece ids in [CLS] … [SEP] and prepends the prefix', () => {
      const windows = new TokenWindows(tokenizer(), {
        maxTokens: 512,
        maxWindows: 4,
        queryPrefix: 'query: ',
        passagePrefix: 'passage: ',
      });
      expect(windows.of('Volcano zq', 'query')).toEqual([
        [id('[CLS]'), id('query'), id(':'), id('volcano'), id('z'), id('##q'), id('[SEP]')],
      ]);
      expect(windows.of('Volcano', 'passage')[0].slice(1, 3)).toEqual([id('passage'), id(':')]);
    });

    it('splits a text longer than the window, each window with the prefix, none lost', () => {
      const windows = new TokenWindows(tokenizer(), {
        maxTokens: 8,
        maxWindows: 10,
        queryPrefix: '',
        passagePrefix: 'passage: ',
      });
      const text = 'the ocean is deep and blue and the whale can swim in the sea';
      const out = windows.of(text, 'passage');
      expect(out.length).toBeGreaterThan(1);
      for (const w of out) {
        expect(w.length).toBeLessThanOrEqual(8);
        expect(w[0]).toBe(id('[CLS]'));
        expect(w[w.length - 1]).toBe(id('[SEP]'));
        expect(w.slice(1, 3)).toEqual([id('passage'), id(':')]);
      }
      const content = out.flatMap((w) => w.slice(3, -1));
      const expected = tokenizer().encode(text, { add_special_tokens: false }).ids;
      expect(content).toEqual(expected);
    });

    it('stops after maxWindows, so one huge text costs a bounded amount', () => {
      const windows = new TokenWindows(tokenizer(), {
        maxTokens: 8,
        maxWindows: 3,
        queryPrefix: '',
        passagePrefix: '',
      });
      expect(windows.of('sea '.repeat(500), 'passage')).toHaveLength(3);
    });

    it('refuses a window too small for the prefix', () => {
      expect(
        () =>
          new TokenWindows(tokenizer(), {
            maxTokens: 4,
            maxWindows: 3,
            queryPrefix: 'query: ',
            passagePrefix: '',
          }),
      ).toThrow(/EMBEDDING_MAX_TOKENS/);
    });
  });

  describe('pooling and normalisation (the arithmetic)', () => {
    // 2 rows × width 3 × hidden 2; row 0 has 2 real tokens, row 1 has 3.
    const data = Float32Array.from([1, 2, 3, 4, 99, 99, 5, 6, 7, 8, 9, 10]);

    it('means only the unpadded tokens', () => {
      const [a, b] = pool(data, [2, 3], 3, 2, 'mean');
      expect(Array.from(a)).toEqual([2, 3]);
      expect(Array.from(b)).toEqual([7, 8]);
    });

    it('takes the first token for CLS pooling', () => {
      const [a, b] = pool(data, [2, 3], 3, 2, 'cls');
      expect(Array.from(a)).toEqual([1, 2]);
      expect(Array.from(b)).toEqual([5, 6]);
    });

    it('weights windows by their token counts, then normalises', () => {
      const v = combineWindows(
        [Float32Array.from([1, 0]), Float32Array.from([0, 1])],
        [3, 1],
        false,
      );
      expect(Array.from(v)).toEqual([0.75, 0.25]);
      const n = normalizeInPlace(Float32Array.from([3, 4]));
      expect(Array.from(n).map((x) => Math.round(x * 1e6) / 1e6)).toEqual([0.6, 0.8]);
    });
  });

  describe('embedding through the thread pool', () => {
    it('returns unit vectors of the model dimension, similar for texts that share words', async () => {
      const e = make();
      const [volcano, volcano2, bread] = await e.embed([
        'volcano eruption ash over iceland',
        'the ash of a volcano eruption',
        'bake sourdough bread with flour and water',
      ]);
      expect(volcano).toHaveLength(tiny.dimension);
      for (const v of [volcano, volcano2, bread]) expect(Math.sqrt(dot(v, v))).toBeCloseTo(1, 5);
      expect(dot(volcano, volcano2)).toBeGreaterThan(dot(volcano, bread) + 0.2);
    });

    it('batches without changing a vector or the order', async () => {
      const texts = Array.from({ length: 37 }, (_, i) => `${'sea '.repeat(i % 7)}whale ${i}`);
      const batched = await make({ batchSize: 5, threads: 2 }).embed(texts);
      const single = make({ batchSize: 64 });
      expect(batched).toHaveLength(37);
      for (const i of [0, 4, 5, 17, 36]) {
        const [alone] = await single.embed([texts[i]]);
        expect(Array.from(batched[i])).toEqual(Array.from(alone));
      }
    });

    it('applies the query and passage prefixes of the profile', async () => {
      const e5 = model('tiny-e5-small', { layers: 1 });
      const withPrefixes = make({ modelPath: e5.dir });
      expect(withPrefixes.profile).toMatchObject({
        model: 'tiny-e5-small',
        queryPrefix: 'query: ',
        passagePrefix: 'passage: ',
        pooling: 'mean',
      });
      const plain = make({ modelPath: e5.dir, queryPrefix: '', passagePrefix: '' });
      const [asQuery] = await withPrefixes.embed(['deep ocean'], { kind: 'query' });
      const [asPassage] = await withPrefixes.embed(['deep ocean']);
      const [byHand, byHandPassage] = await plain.embed([
        'query: deep ocean',
        'passage: deep ocean',
      ]);
      expect(Array.from(asQuery)).toEqual(Array.from(byHand));
      expect(Array.from(asPassage)).toEqual(Array.from(byHandPassage));
      expect(Array.from(asQuery)).not.toEqual(Array.from(asPassage));
    });

    it('takes CLS pooling from 1_Pooling/config.json', async () => {
      // Without layers the model has no context, so CLS is the same vector for every text.
      const cls = model('tiny-cls', { pooling: 'cls' });
      const e = make({ modelPath: cls.dir });
      expect(e.profile.pooling).toBe('cls');
      const [a, b] = await e.embed(['volcano', 'sourdough bread']);
      expect(Array.from(a)).toEqual(Array.from(b));
      const [m1, m2] = await make({ modelPath: cls.dir, pooling: 'mean' }).embed([
        'volcano',
        'sourdough bread',
      ]);
      expect(Array.from(m1)).not.toEqual(Array.from(m2));
    });

    it('pools the windows of a long text into one vector', async () => {
      const e = make({ maxTokens: 8 });
      const long = 'whale sea coral reef deep blue ocean fish swim whale sea coral reef deep';
      const [v] = await e.embed([long]);
      expect(Math.sqrt(dot(v, v))).toBeCloseTo(1, 5);
      const [whole] = await make().embed([long]);
      // Different windows, the same words: close, but not the same vector.
      expect(dot(v, whole)).toBeGreaterThan(0.8);
      expect(Array.from(v)).not.toEqual(Array.from(whole));
      expect(MAX_WINDOWS_PER_TEXT).toBeGreaterThan(1);
    });

    it('runs inference off the event loop, on as many threads as configured', async () => {
      const e = make({ threads: 2, batchSize: 8 });
      await e.ready();
      let ticks = 0;
      const timer = setInterval(() => ticks++, 0);
      try {
        const texts = Array.from({ length: 400 }, (_, i) =>
          `the library book page ${i} `.repeat(20),
        );
        const vectors = await e.embed(texts);
        expect(vectors).toHaveLength(400);
      } finally {
        clearInterval(timer);
      }
      expect(ticks).toBeGreaterThan(0);
      const pool = await (e as unknown as { pool: Promise<{ size: number; pending: number }> })
        .pool;
      expect(pool.size).toBe(2);
      expect(pool.pending).toBe(0);
    });

    it('replaces a thread that dies: its batch fails as transient, the next one runs', async () => {
      const e = make({ threads: 1 });
      await e.ready();
      const pool = await (
        e as unknown as { pool: Promise<{ slots: { worker: { terminate(): Promise<number> } }[] }> }
      ).pool;
      const running = e.embed(['sea '.repeat(300)]);
      await pool.slots[0].worker.terminate();
      const err = await running.catch((x: unknown) => x);
      expect(err).toBeInstanceOf(EmbedderUnavailableError);
      expect(isPermanent(err)).toBe(false);
      const [v] = await e.embed(['sea']);
      expect(v).toHaveLength(tiny.dimension);
    });

    it('stops waiting when the caller aborts', async () => {
      const e = make();
      const controller = new AbortController();
      controller.abort(new Error('job cancelled'));
      await expect(e.embed(['sea'], { signal: controller.signal })).rejects.toThrow(
        'job cancelled',
      );
      const later = new AbortController();
      const pending = e.embed(['sea '.repeat(200)], { signal: later.signal });
      later.abort(new Error('stopped meanwhile'));
      await expect(pending).rejects.toThrow('stopped meanwhile');
    });

    it('refuses work after close with a transient error', async () => {
      const e = make();
      await e.embed(['sea']);
      const pool = await (
        e as unknown as { pool: Promise<{ run(t: string[], k: string): Promise<unknown> }> }
      ).pool;
      await e.close();
      const err = await pool.run(['sea'], 'passage').catch((x: unknown) => x);
      expect(err).toBeInstanceOf(EmbedderUnavailableError);
    });
  });

  describe('start-up checks', () => {
    const problem = async (build: () => LocalEmbedder): Promise<Error> => {
      try {
        const e = build();
        open.push(e);
        await e.ready();
      } catch (err) {
        return err as Error;
      }
      throw new Error('expected the model to be refused');
    };
    const oneLine = (err: Error) => expect(err.message).not.toContain('\n');

    it('refuses EMBEDDING_DIM other than the model’s hidden size', async () => {
      const err = await problem(() => new LocalEmbedder({ modelPath: tiny.dir, dimension: 384 }));
      expect(err).toBeInstanceOf(EmbeddingDimensionMismatchError);
      expect(err.message).toMatch(
        /produces 32-dimensional vectors but EMBEDDING_DIM is 384: set EMBEDDING_DIM=32/,
      );
      oneLine(err);
    });

    it('refuses an ONNX output that disagrees with config.json', async () => {
      const wide = model('tiny-lies', { hidden: 48 });
      const config = JSON.parse(readFileSync(join(wide.dir, 'config.json'), 'utf8'));
      writeFileSync(join(wide.dir, 'config.json'), JSON.stringify({ ...config, hidden_size: 32 }));
      const err = await problem(() => new LocalEmbedder({ modelPath: wide.dir, dimension: 32 }));
      expect(err).toBeInstanceOf(EmbeddingDimensionMismatchError);
      expect(err.message).toMatch(/produces 48-dimensional vectors but EMBEDDING_DIM is 32/);
      oneLine(err);
    });

    it.each([
      ['no path', () => undefined, /EMBEDDING_MODEL_PATH must be set/],
      [
        'a missing folder',
        () => join(root, 'nowhere'),
        /is not a folder: download the model there/,
      ],
      [
        'no config.json',
        () => {
          const m = model('no-config');
          rmSync(join(m.dir, 'config.json'));
          return m.dir;
        },
        /config\.json is missing: .*download the model's config\.json/,
      ],
      [
        'a tokenizer.json that is not JSON',
        () => {
          const m = model('bad-tokenizer');
          writeFileSync(join(m.dir, 'tokenizer.json'), '{ not json');
          return m.dir;
        },
        /tokenizer\.json is not a JSON object: download the model's tokenizer\.json again/,
      ],
      [
        'no ONNX file',
        () => {
          const m = model('no-onnx');
          rmSync(join(m.dir, 'onnx'), { recursive: true });
          return m.dir;
        },
        /has no onnx\/model\.onnx: download the model's ONNX export/,
      ],
      [
        'a config.json without hidden_size',
        () => {
          const m = model('no-hidden');
          writeFileSync(join(m.dir, 'config.json'), JSON.stringify({ model_type: 'bert' }));
          return m.dir;
        },
        /has no hidden_size/,
      ],
    ])('refuses a model folder with %s', async (_what, folder, message) => {
      const err = await problem(() => new LocalEmbedder({ modelPath: folder() }));
      expect(err).toBeInstanceOf(EmbeddingModelError);
      expect(err.message).toMatch(message);
      expect(isPermanent(err)).toBe(true);
      oneLine(err);
    });

    it('refuses a file that is not ONNX before any thread starts', async () => {
      const m = model('lfs-pointer');
      writeFileSync(
        join(m.dir, 'onnx', 'model.onnx'),
        'version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 1\n',
      );
      expect(() => new LocalEmbedder({ modelPath: m.dir })).toThrow(
        /model\.onnx is not an ONNX model .*download the model's onnx\/ folder again/,
      );
    });

    it('refuses an ONNX file the runtime cannot load, at start-up', async () => {
      const m = model('corrupt-onnx');
      // A valid first field, then garbage: only the runtime can tell.
      writeFileSync(join(m.dir, 'onnx', 'model.onnx'), Buffer.from([0x08, 0x08, 0xff, 0xff, 0x01]));
      const err = await problem(() => new LocalEmbedder({ modelPath: m.dir }));
      expect(err).toBeInstanceOf(EmbeddingModelError);
      expect(err.message).toMatch(
        /is not an ONNX model this runtime can load .*download the model's onnx\/ folder again/,
      );
      oneLine(err);
    });

    it('stops PipelineModule start-up when the model cannot load', async () => {
      const m = model('corrupt-for-module');
      writeFileSync(join(m.dir, 'onnx', 'model.onnx'), Buffer.from([0x08, 0x08, 0x42, 0x99]));
      await expect(
        Test.createTestingModule({
          imports: [
            PipelineModule.forRoot({
              embedding: { provider: 'local', modelPath: m.dir, dimension: 32 },
            }),
          ],
        }).compile(),
      ).rejects.toThrow(EmbeddingModelError);
    });

    it('is built by createEmbedder and PipelineModule, and closed with the application', async () => {
      expect(
        createEmbedder({ provider: 'local', modelPath: tiny.dir, dimension: 32 }),
      ).toBeInstanceOf(LocalEmbedder);
      const moduleRef = await Test.createTestingModule({
        imports: [
          PipelineModule.forRoot({
            embedding: { provider: 'local', modelPath: tiny.dir, dimension: 32, threads: 1 },
          }),
        ],
      }).compile();
      const app = moduleRef.createNestApplication();
      await app.init();
      const embedder = app.get<LocalEmbedder>(EMBEDDER);
      expect(embedder.model).toBe('tiny-bert');
      const [v] = await embedder.embed(['ocean']);
      expect(v).toHaveLength(32);
      await app.close();
      await expect(embedder.embed(['ocean'])).resolves.toHaveLength(1); // restarts on demand
      await embedder.close();
    });
  });
});

describe('embedding profiles', () => {
  it('keeps keyword ahead of the lexical hashing embedder, equal for semantic models', () => {
    expect(new HashingEmbedder().profile.fusion).toEqual(LEXICAL_FUSION);
    expect(LEXICAL_FUSION).toEqual({ semantic: 1, keyword: 1.5 });
    const e5 = embeddingProfile({
      provider: 'local',
      model: 'intfloat/multilingual-e5-small',
      dimension: 384,
    });
    expect(e5.fusion).toEqual(SEMANTIC_FUSION);
    expect(e5).toMatchObject({
      pooling: 'mean',
      queryPrefix: 'query: ',
      passagePrefix: 'passage: ',
    });
  });

  it('knows bge (CLS, no prefixes) and lets settings win over everything', () => {
    expect(
      embeddingProfile({ provider: 'local', model: 'BAAI/bge-m3', dimension: 1024 }).pooling,
    ).toBe('cls');
    const p = embeddingProfile({
      provider: 'local',
      model: 'multilingual-e5-base',
      dimension: 768,
      folderPooling: 'cls',
      pooling: 'mean',
      queryPrefix: 'q: ',
      fusion: { keyword: 2 },
    });
    expect(p).toMatchObject({ pooling: 'mean', queryPrefix: 'q: ', passagePrefix: 'passage: ' });
    expect(p.fusion).toEqual({ semantic: 1, keyword: 2 });
  });

  it('is plain data that survives JSON', () => {
    const p = new HashingEmbedder({ dimension: 256 }).profile;
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
  });
});
