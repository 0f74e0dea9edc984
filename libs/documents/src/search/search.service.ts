import { Inject, Injectable, Optional } from '@nestjs/common';
import { DbService } from '@quarry/db';
import { EMBEDDER, Embedder, FusionWeights } from '@quarry/pipeline';
import { QdrantGateway } from '@quarry/vector';
import { performance } from 'node:perf_hooks';
import { DomainError, notFound } from '../domain-errors';
import { isUuid } from '../documents.service';
import { rowsOf } from '../sql';
import {
  containsPattern,
  highlightsOf,
  KeywordTerm,
  keywordTerms,
  termTsquery,
  trigramIndexable,
} from './keyword-terms';
import { maxFusedScore, reciprocalRankFusion } from './rank-fusion';
import {
  decodeCursor,
  encodeCursor,
  isAfter,
  SearchCursor,
  searchFingerprint,
} from './search-cursor';
import { ValidFilter, ValidSearch, validateSearch } from './search-request';
import {
  DEFAULT_SEARCH_OPTIONS,
  SEARCH_OPTIONS,
  SearchHit,
  SearchOptions,
  SearchRequest,
  SearchResponse,
  SimilarDocumentsResponse,
} from './search.types';

/** One visible chunk with what a result shows of its document. */
interface ChunkRow {
  id: string;
  document_id: string;
  ordinal: number;
  text: string;
  page: number | null;
  filename: string;
  collection_id: string;
  mime_type: string;
  metadata: Record<string, unknown>;
}

interface Scored {
  id: string;
  row: ChunkRow;
  score: number;
}

interface Boundary {
  score: number;
  id: string;
}

/** Collects positional parameters while a statement is assembled. */
class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

const byScoreThenId = (a: { id: string; score: number }, b: { id: string; score: number }) =>
  b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

const HIT_COLUMNS = `c.id::text AS id, c.document_id::text AS document_id, c.ordinal, c.text,
  c.page, d.filename, d.collection_id::text AS collection_id, d.mime_type, d.metadata`;

/**
 * Semantic, keyword and hybrid search. Whatever the mode, a chunk is returned only when
 * PostgreSQL says so: its row exists, its document belongs to the caller, is `completed`,
 * and the chunk is of the document's current generation. Qdrant only proposes candidates,
 * so points left behind by a delete, a reprocess or a crash are never shown.
 */
@Injectable()
export class SearchService {
  private readonly options: SearchOptions;

  constructor(
    private readonly db: DbService,
    private readonly vectors: QdrantGateway,
    @Inject(EMBEDDER) private readonly embedder: Embedder,
    @Optional() @Inject(SEARCH_OPTIONS) options?: Partial<SearchOptions>,
  ) {
    this.options = { ...DEFAULT_SEARCH_OPTIONS, ...options };
  }

  get settings(): Readonly<SearchOptions> {
    return this.options;
  }

  /** Hybrid fusion weights: the embedder profile's, unless the module options set them. */
  get fusionWeights(): FusionWeights {
    const profile = this.embedder.profile.fusion;
    return {
      semantic: this.options.semanticWeight ?? profile.semantic,
      keyword: this.options.keywordWeight ?? profile.keyword,
    };
  }

  async search(ownerId: string, request: SearchRequest): Promise<SearchResponse> {
    const started = performance.now();
    const search = validateSearch(request, this.options.maxOffset);
    const fingerprint = searchFingerprint({
      q: search.query,
      m: search.mode,
      c: search.collectionIds,
      t: search.scoreThreshold,
      f: request.filter,
    });
    let cursor: SearchCursor | undefined;
    if (search.cursor !== undefined) {
      cursor = decodeCursor(search.cursor);
      if (cursor.fingerprint !== fingerprint || cursor.mode !== search.mode) {
        throw new DomainError(
          'bad-input',
          'cursor belongs to a different search: send the same query, mode, collection_ids, filter and score_threshold as the first page',
        );
      }
    }
    const terms = keywordTerms(search.query);
    let page: { items: Scored[]; next: SearchCursor | null; position: number };
    switch (search.mode) {
      case 'semantic':
        page = await this.semanticSearch(ownerId, search, fingerprint, cursor);
        break;
      case 'keyword':
        page = await this.keywordSearch(ownerId, search, terms, fingerprint, cursor);
        break;
      case 'hybrid':
        page = await this.hybridSearch(ownerId, search, terms, fingerprint, cursor);
        break;
    }
    const results: SearchHit[] = page.items.map((item, i) => ({
      chunk_id: item.id,
      text: item.row.text,
      highlights: highlightsOf(item.row.text, terms),
      score: item.score,
      rank: page.position + i + 1,
      page: item.row.page,
      ordinal: item.row.ordinal,
      document: {
        id: item.row.document_id,
        filename: item.row.filename,
        collection_id: item.row.collection_id,
        mime_type: item.row.mime_type,
        metadata: item.row.metadata,
      },
    }));
    return {
      results,
      next_cursor: page.next ? encodeCursor(page.next) : null,
      took_ms: Math.round((performance.now() - started) * 100) / 100,
      mode: search.mode,
    };
  }

  // ------------------------------------------------------------------ semantic

  private async semanticSearch(
    ownerId: string,
    search: ValidSearch,
    fingerprint: string,
    cursor?: SearchCursor,
  ) {
    const scope = await this.vectorScope(ownerId, search);
    if (scope === 'nothing') return { items: [], next: null, position: cursor?.position ?? 0 };
    const vector = await this.embedQuery(search.query);
    const skip = cursor ? 0 : search.offset;
    const scan = await this.scanSemantic(ownerId, search, vector, scope, {
      after: cursor,
      startRaw: cursor?.rawOffset ?? 0,
      need: skip + search.limit + 1,
      scoreThreshold: search.scoreThreshold,
    });
    const position = (cursor?.position ?? 0) + skip;
    const items = scan.items.slice(skip, skip + search.limit);
    const more = scan.items.length > skip + search.limit || !scan.exhausted;
    let boundary: Boundary | undefined;
    if (items.length === search.limit) boundary = items[items.length - 1];
    else if (!scan.exhausted && scan.lastRawScore !== undefined) {
      // every candidate scored above the last point read was seen; continue below it
      boundary = { score: scan.lastRawScore, id: '' };
    }
    const next =
      more && boundary
        ? {
            mode: search.mode,
            fingerprint,
            position: position + items.length,
            score: boundary.score,
            id: boundary.id,
            rawOffset: scan.rawOffsetBefore(boundary.score),
          }
        : null;
    return { items, next, position };
  }

  /**
   * Reads Qdrant from `startRaw` on in growing batches, checking each batch's candidates
   * in PostgreSQL, until `need` visible chunks are certain to be the best ones (the last
   * point read scores below the need-th) or the rounds run out. Ties are ordered by id,
   * which Qdrant does not promise, so a page never ends inside a group of equal scores.
   */
  private async scanSemantic(
    ownerId: string,
    search: ValidSearch,
    vector: number[],
    documentIds: string[] | undefined,
    opts: { after?: Boundary; startRaw: number; need: number; scoreThreshold?: number },
  ) {
    const { maxSemanticBatch, maxSemanticRounds } = this.options;
    let raw = opts.startRaw;
    let batch = Math.min(Math.max(opts.need * 3, 30), maxSemanticBatch);
    const collected: Scored[] = [];
    const rawScores: number[] = [];
    const threshold = opts.scoreThreshold;
    let exhausted = false;
    for (let round = 0; round < maxSemanticRounds; round++) {
      const hits = await this.vectors.queryIds({
        vector,
        ownerId,
        collectionIds: search.collectionIds,
        documentIds,
        limit: batch,
        offset: raw,
        // Qdrant compares in float32 and answers rounded scores: ask a hair lower and
        // apply the exact bound to the scores as returned.
        scoreThreshold: threshold === undefined ? undefined : threshold - 1e-6,
      });
      raw += hits.length;
      for (const hit of hits) rawScores.push(hit.score);
      const after = opts.after;
      const fresh = hits.filter(
        (h) =>
          (threshold === undefined || h.score >= threshold) &&
          (!after || isAfter(after, h.score, h.id)),
      );
      if (fresh.length > 0) {
        // In result order, only the first `need` visible candidates of a round can be
        // among the best `need` of all rounds: only their rows (and text) are read.
        fresh.sort(byScoreThenId);
        const rows = await this.visibleChunks(
          ownerId,
          search,
          fresh.map((h) => h.id),
          opts.need,
        );
        for (const hit of fresh) {
          const row = rows.get(hit.id);
          if (row) collected.push({ id: hit.id, row, score: hit.score });
        }
      }
      if (hits.length < batch) {
        exhausted = true;
        break;
      }
      collected.sort(byScoreThenId);
      const lastScore = hits[hits.length - 1].score;
      if (collected.length >= opts.need && collected[opts.need - 1].score > lastScore) break;
      batch = Math.min(batch * 2, maxSemanticBatch);
    }
    collected.sort(byScoreThenId);
    const lastRawScore = rawScores.length > 0 ? rawScores[rawScores.length - 1] : undefined;
    const certain =
      exhausted || lastRawScore === undefined
        ? collected
        : collected.filter((c) => c.score > lastRawScore);
    const startRaw = opts.startRaw;
    return {
      items: certain.slice(0, opts.need),
      exhausted: exhausted && certain.length <= opts.need,
      lastRawScore,
      /** the Qdrant offset before which every point scores above `score` */
      rawOffsetBefore: (score: number) => startRaw + rawScores.filter((s) => s > score).length,
    };
  }

  /**
   * With a document filter, the matching documents are looked up first; when there are
   * few, Qdrant is asked for their points only, so a narrow filter does not have to be
   * found by reading through everyone else's candidates.
   */
  private async vectorScope(
    ownerId: string,
    search: ValidSearch,
  ): Promise<string[] | undefined | 'nothing'> {
    if (!hasDocumentFilter(search.filter)) return undefined;
    const params = new Params();
    const where = documentConditions(params, ownerId, search);
    const cap = this.options.documentIdPushdownLimit;
    const rows = await this.db.read((m) =>
      rowsOf<{ id: string }>(
        m,
        `SELECT d.id::text AS id FROM documents d WHERE ${where.join(' AND ')} LIMIT ${cap + 1}`,
        params.values,
      ),
    );
    if (rows.length === 0) return 'nothing';
    return rows.length <= cap ? rows.map((r) => r.id) : undefined;
  }

  /**
   * The candidates PostgreSQL lets through, in one statement (owner checked again here);
   * with `firstVisible`, only that many, the first in the order of `ids`.
   */
  private async visibleChunks(
    ownerId: string,
    search: ValidSearch,
    ids: string[],
    firstVisible?: number,
  ): Promise<Map<string, ChunkRow>> {
    const params = new Params();
    const idsParam = params.add(ids.filter(isUuid));
    const limit =
      firstVisible === undefined ? '' : `ORDER BY q.position LIMIT ${params.add(firstVisible)}`;
    const where = [
      `d.id = c.document_id`,
      `d.generation = c.generation`,
      ...documentConditions(params, ownerId, search),
    ];
    // Each candidate's document is looked up by its key. A plain join lets the planner
    // hash every document of the owner (a sequential scan, O(owner's documents)) to
    // check a few dozen chunks; OFFSET 0 keeps the subquery a per-row index lookup.
    // Prepared: on the semantic path this lookup is most of the time not spent in Qdrant.
    const rows = await this.db.readPrepared<ChunkRow>(
      `SELECT ${HIT_COLUMNS}
           FROM unnest(${idsParam}::uuid[]) WITH ORDINALITY AS q(id, position)
           JOIN chunks c ON c.id = q.id
          CROSS JOIN LATERAL (
            SELECT d.filename, d.collection_id, d.mime_type, d.metadata
              FROM documents d
             WHERE ${where.join(' AND ')}
            OFFSET 0
          ) d
          ${limit}`,
      params.values,
    );
    return new Map(rows.map((r) => [r.id, r]));
  }

  private async embedQuery(text: string): Promise<number[]> {
    const [vector] = await this.embedder.embed([text], { kind: 'query' });
    return Array.from(vector);
  }

  // ------------------------------------------------------------------ keyword

  private async keywordSearch(
    ownerId: string,
    search: ValidSearch,
    terms: KeywordTerm[],
    fingerprint: string,
    cursor?: SearchCursor,
  ) {
    const skip = cursor ? 0 : search.offset;
    const position = (cursor?.position ?? 0) + skip;
    const rows = await this.keywordList(ownerId, search, terms, {
      after: cursor,
      offset: skip,
      take: search.limit + 1,
      scoreThreshold: search.scoreThreshold,
    });
    const items = rows.slice(0, search.limit);
    const last = items[items.length - 1];
    const next =
      rows.length > search.limit && last
        ? {
            mode: search.mode,
            fingerprint,
            position: position + items.length,
            score: last.score,
            id: last.id,
            rawOffset: 0,
          }
        : null;
    return { items, next, position };
  }

  /**
   * Full-text matches ranked in one statement. Korean words match as word prefixes in
   * the `simple` tsvector (데비안 finds 데비안은 and 데비안을); a Korean stem of three
   * syllables or more matches anywhere in the text through the trigram index over the
   * chunk's Hangul runs instead (a superset: 리눅스 in 데비안리눅스 too), with LIKE, since
   * Hangul has no case and ILIKE would lower-case every character of every candidate.
   * Other words match as typed or by their plural's stem.
   *
   * score = (query words the chunk contains + ts_rank_cd scaled to [0, 1)) / (words + 1),
   * so a chunk holding more of the query's words always ranks above one holding fewer,
   * and density orders chunks within a tier. That tiering lets a page be served from
   * the chunks holding every word (an index intersection) whenever there are enough of
   * them; only otherwise are chunks holding some of the words ranked, a bounded number
   * per word. Only ids and scores
   * are sorted; text and document columns are read for the page's rows alone.
   */
  private async keywordList(
    ownerId: string,
    search: ValidSearch,
    terms: KeywordTerm[],
    opts: { after?: Boundary; offset: number; take: number; scoreThreshold?: number },
  ): Promise<Scored[]> {
    if (terms.length === 0) return [];
    const params = new Params();
    const conditions = terms.map((term) =>
      trigramIndexable(term.stem)
        ? `c.text_hangul LIKE ${params.add(containsPattern(term.stem))}`
        : `c.tsv @@ ${params.add(termTsquery(term))}::tsquery`,
    );
    const anyTerm = params.add(terms.map(termTsquery).join(' | '));
    const score = `((${conditions.map((c) => `(${c})::int`).join(' + ')}) + ts_rank_cd(c.tsv, ${anyTerm}::tsquery, 32))::float8 / ${terms.length + 1}`;
    const base = [`c.generation = d.generation`, ...documentConditions(params, ownerId, search)];
    const keep: string[] = [];
    if (opts.after) {
      const s = params.add(opts.after.score);
      const id = opts.after.id === '' ? null : params.add(opts.after.id);
      keep.push(
        id ? `(m.score < ${s} OR (m.score = ${s} AND m.id > ${id}::uuid))` : `m.score <= ${s}`,
      );
    }
    if (opts.scoreThreshold !== undefined) {
      keep.push(`m.score >= ${params.add(opts.scoreThreshold)}`);
    }
    const take = params.add(opts.take);
    const offset = params.add(opts.offset);
    const cap = params.add(this.options.keywordTermCandidates);
    const visible = (conditions: string[]) =>
      `FROM chunks c JOIN documents d ON d.id = c.document_id
        WHERE ${[...base, ...conditions].join(' AND ')}`;
    const scored = (...conditions: string[]) =>
      `SELECT c.id, ${score} AS score ${visible(conditions)}`;
    /** One page of a relation of (id, score). */
    const page = (scoredRows: string) => `
      SELECT m.id, m.score FROM (${scoredRows}) m
      ${keep.length > 0 ? `WHERE ${keep.join(' AND ')}` : ''}
      ORDER BY m.score DESC, m.id ASC
      LIMIT ${take} OFFSET ${offset}`;
    const full = (cte: string) => `(SELECT count(*) FROM ${cte}) >= ${take}`;
    const short = (cte: string) => `(SELECT count(*) FROM ${cte}) < ${take}`;

    // Chunks holding every word, then (three words or more) all but one: each tier is an
    // index intersection, and a full page from a tier is exactly the page of the whole
    // list, because a chunk holding fewer words always scores lower. All tiers are one
    // statement (one round trip, planned once); a tier after a full page is not run:
    // its scan sits under a condition on the previous page that PostgreSQL evaluates
    // first (a one-time filter), so it is never executed.
    const ctes: string[] = [];
    const pages: string[] = [];
    let lastTier: string | undefined;
    if (terms.length === 2) {
      ctes.push(`tier1 AS MATERIALIZED (${scored(conditions.join(' AND '))})`);
      ctes.push(`page1 AS MATERIALIZED (${page('SELECT id, score FROM tier1')})`);
      pages.push('page1');
      lastTier = 'tier1';
    } else if (terms.length > 2) {
      ctes.push(`page1 AS MATERIALIZED (${page(scored(conditions.join(' AND ')))})`);
      ctes.push(`tier2 AS MATERIALIZED (${scored(allButOne(conditions), short('page1'))})`);
      ctes.push(`page2 AS MATERIALIZED (${page('SELECT id, score FROM tier2')})`);
      pages.push('page1', 'page2');
      lastTier = 'tier2';
    }
    // Chunks holding some of the words, when no tier filled the page: each word
    // contributes at most its first `keywordTermCandidates` chunks (by id, so every page
    // sees the same set), plus every chunk of the last tier. A rare word keeps all its
    // chunks; a word in a fifth of the collection cannot make one request rank twenty
    // thousand rows. UNION drops the chunks two lists share (their scores are equal).
    const gates = pages.map(short);
    // A word's list is chosen by id on narrow rows (row address and id), then its chunks
    // are scored by row address (a TID scan): sorting thousands of rows with their text
    // and tsvector cost more than the ranking itself. Both halves run in one statement,
    // so under one snapshot, where a row address stays the row's.
    const lists = conditions.map(
      (condition) =>
        `(SELECT c.id, ${score} AS score FROM chunks c
           WHERE c.ctid = ANY(ARRAY(
             SELECT c.ctid ${visible([condition, ...gates])} ORDER BY c.id LIMIT ${cap})))`,
    );
    if (lastTier) lists.push(`(SELECT id, score FROM ${lastTier} WHERE ${gates.join(' AND ')})`);
    ctes.push(`rest AS MATERIALIZED (${page(lists.join(' UNION '))})`);
    const chosen = [
      ...pages.map((name) => `SELECT id, score FROM ${name} WHERE ${full(name)}`),
      'SELECT id, score FROM rest',
    ];
    const statement = `
      WITH ${ctes.join(',\n')}
      SELECT ${HIT_COLUMNS}, page.score
        FROM (${chosen.join(' UNION ALL ')}) page
        JOIN chunks c ON c.id = page.id
        JOIN documents d ON d.id = c.document_id
       ORDER BY page.score DESC, page.id ASC`;
    return toScored(
      await this.db.read((m) => rowsOf<ChunkRow & { score: number }>(m, statement, params.values)),
    );
  }

  // ------------------------------------------------------------------ hybrid

  /**
   * Reciprocal rank fusion of the best `hybridCandidates` of each list. Scores are
   * scaled so that 1 means first in both lists. Pages walk the fused list, so hybrid
   * results reach at most twice `hybridCandidates` deep.
   */
  private async hybridSearch(
    ownerId: string,
    search: ValidSearch,
    terms: KeywordTerm[],
    fingerprint: string,
    cursor?: SearchCursor,
  ) {
    const depth = this.options.hybridCandidates;
    const semantic = (async () => {
      const scope = await this.vectorScope(ownerId, search);
      if (scope === 'nothing') return [];
      const vector = await this.embedQuery(search.query);
      const scan = await this.scanSemantic(ownerId, search, vector, scope, {
        startRaw: 0,
        need: depth,
      });
      return scan.items;
    })();
    const keyword = this.keywordList(ownerId, search, terms, { offset: 0, take: depth });
    const [semanticList, keywordList] = await Promise.all([semantic, keyword]);
    const fusion = {
      k: this.options.rrfK,
      weights: [this.fusionWeights.semantic, this.fusionWeights.keyword],
    };
    const scale = maxFusedScore(fusion);
    let fused: Scored[] = reciprocalRankFusion<Scored>([semanticList, keywordList], fusion).map(
      (entry) => ({ id: entry.item.id, row: entry.item.row, score: entry.score / scale }),
    );
    if (search.scoreThreshold !== undefined) {
      const min = search.scoreThreshold;
      fused = fused.filter((f) => f.score >= min);
    }
    if (cursor) fused = fused.filter((f) => isAfter(cursor, f.score, f.id));
    const skip = cursor ? 0 : search.offset;
    const position = (cursor?.position ?? 0) + skip;
    const items = fused.slice(skip, skip + search.limit);
    const last = items[items.length - 1];
    const next =
      fused.length > skip + search.limit && last
        ? {
            mode: search.mode,
            fingerprint,
            position: position + items.length,
            score: last.score,
            id: last.id,
            rawOffset: 0,
          }
        : null;
    return { items, next, position };
  }

  // ------------------------------------------------------------------ similar

  /**
   * Documents nearest to one document: its first chunks, embedded and averaged, as the
   * query; each other document scored by its best chunk.
   */
  async similarDocuments(
    ownerId: string,
    documentId: string,
    { limit = 10 }: { limit?: number } = {},
  ): Promise<SimilarDocumentsResponse> {
    const started = performance.now();
    if (!isUuid(documentId)) throw notFound('document', documentId);
    const id = documentId.toLowerCase();
    const texts = await this.db.read((m) =>
      rowsOf<{ text: string }>(
        m,
        `SELECT c.text FROM chunks c JOIN documents d ON d.id = c.document_id
          WHERE d.id = $1 AND d.owner_id = $2 AND d.status = 'completed'
            AND c.generation = d.generation
          ORDER BY c.ordinal LIMIT 8`,
        [id, ownerId],
      ),
    );
    if (texts.length === 0) throw notFound('document', documentId);
    const vectors = await this.embedder.embed(texts.map((t) => t.text));
    const vector = meanNormalised(vectors.map((v) => Array.from(v)));
    const hits = await this.vectors.query({ vector, ownerId, limit: Math.min(limit * 20, 1_000) });
    const empty: ValidSearch = {
      query: '',
      mode: 'semantic',
      limit,
      offset: 0,
      filter: { metadataEquals: [], metadataIn: [] },
    };
    const candidates = hits.filter((h) => h.payload.document_id !== id);
    const rows = candidates.length
      ? await this.visibleChunks(
          ownerId,
          empty,
          candidates.map((h) => h.id),
        )
      : new Map<string, ChunkRow>();
    const best = new Map<string, { score: number; row: ChunkRow }>();
    for (const hit of candidates) {
      const row = rows.get(hit.id);
      if (!row || row.document_id === id) continue;
      const seen = best.get(row.document_id);
      if (!seen || hit.score > seen.score) best.set(row.document_id, { score: hit.score, row });
    }
    const results = [...best.values()]
      .sort((a, b) => b.score - a.score || (a.row.document_id < b.row.document_id ? -1 : 1))
      .slice(0, limit)
      .map(({ score, row }) => ({
        score,
        document: {
          id: row.document_id,
          filename: row.filename,
          collection_id: row.collection_id,
          mime_type: row.mime_type,
          metadata: row.metadata,
        },
      }));
    return {
      document_id: id,
      results,
      took_ms: Math.round((performance.now() - started) * 100) / 100,
    };
  }
}

const toScored = (rows: (ChunkRow & { score: number })[]): Scored[] =>
  rows.map(({ score, ...row }) => ({ id: row.id, row, score: Number(score) }));

/**
 * SQL true when all but at most one of the conditions hold. Parenthesised as a whole:
 * it is ANDed with the owner and visibility conditions, which an unbracketed OR would
 * leave applying to its first alternative only.
 */
function allButOne(conditions: string[]): string {
  const alternatives = conditions.map(
    (_, skip) => `(${conditions.filter((__, i) => i !== skip).join(' AND ')})`,
  );
  return `(${alternatives.join(' OR ')})`;
}

function hasDocumentFilter(filter: ValidFilter): boolean {
  return (
    filter.metadataEquals.length > 0 ||
    filter.metadataIn.length > 0 ||
    filter.mimeTypes !== undefined ||
    filter.createdFrom !== undefined ||
    filter.createdTo !== undefined
  );
}

/** Conditions on `documents d`: owner, completed, collections and the request's filter. */
function documentConditions(params: Params, ownerId: string, search: ValidSearch): string[] {
  const where = [`d.owner_id = ${params.add(ownerId)}`, `d.status = 'completed'`];
  if (search.collectionIds) {
    where.push(`d.collection_id = ANY(${params.add(search.collectionIds)}::uuid[])`);
  }
  const f = search.filter;
  for (const { key, value } of f.metadataEquals) {
    where.push(`d.metadata -> ${params.add(key)} = ${params.add(JSON.stringify(value))}::jsonb`);
  }
  for (const { key, values } of f.metadataIn) {
    where.push(
      `d.metadata -> ${params.add(key)} IN (SELECT jsonb_array_elements(${params.add(
        JSON.stringify(values),
      )}::jsonb))`,
    );
  }
  if (f.mimeTypes) where.push(`d.mime_type = ANY(${params.add(f.mimeTypes)}::text[])`);
  if (f.createdFrom) where.push(`d.created_at >= ${params.add(f.createdFrom.toISOString())}`);
  if (f.createdTo) where.push(`d.created_at <= ${params.add(f.createdTo.toISOString())}`);
  return where;
}

function meanNormalised(vectors: number[][]): number[] {
  const sum = new Array<number>(vectors[0].length).fill(0);
  for (const v of vectors) for (let i = 0; i < v.length; i++) sum[i] += v[i];
  const norm = Math.hypot(...sum) || 1;
  return sum.map((x) => x / norm);
}
