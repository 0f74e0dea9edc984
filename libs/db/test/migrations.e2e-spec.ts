import {
  createDataSource,
  Document,
  hasPendingMigrations,
  migrate,
  MIGRATIONS,
  pendingMigrations,
  runMigrations,
} from '@quarry/db';
import { createTestDatabase, documentFactory, testDbOptions, TestDatabase } from '@quarry/testing';
import { DataSource, QueryFailedError } from 'typeorm';

describe('schema and migrations', () => {
  let db: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase('db_migrations');
    ds = createDataSource(testDbOptions(db.url));
    await ds.initialize();
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('has applied every migration, and applying again changes nothing', async () => {
    await expect(pendingMigrations(ds)).resolves.toEqual([]);
    await expect(hasPendingMigrations(ds)).resolves.toBe(false);
    await expect(migrate(ds)).resolves.toEqual([]);
    await expect(runMigrations(testDbOptions(db.url))).resolves.toEqual([]);
    const rows: { name: string }[] = await ds.query(`SELECT name FROM migrations ORDER BY id`);
    expect(rows.map((r) => r.name)).toEqual(MIGRATIONS.map((m) => m.name));
  });

  it('serialises concurrent migrators on a fresh database through the advisory lock', async () => {
    const fresh = await createTestDatabase('db_migrations_race', { migrate: false });
    try {
      const results = await Promise.all([
        runMigrations(testDbOptions(fresh.url)),
        runMigrations(testDbOptions(fresh.url)),
        runMigrations(testDbOptions(fresh.url)),
      ]);
      expect(results.flat()).toEqual(MIGRATIONS.map((m) => m.name));
    } finally {
      await fresh.drop();
    }
  });

  it('reports pending migrations on an empty database', async () => {
    const fresh = await createTestDatabase('db_migrations_pending', { migrate: false });
    const other = createDataSource(testDbOptions(fresh.url));
    try {
      await other.initialize();
      await expect(pendingMigrations(other)).resolves.toEqual(MIGRATIONS.map((m) => m.name));
    } finally {
      await other.destroy();
      await fresh.drop();
    }
  });

  it('maps entities to snake_case columns and generates the full-text column', async () => {
    const doc = await documentFactory(ds, { status: 'completed' })
      .withChunks(['hello quarry world', '안녕하세요 쿼리'])
      .create();
    const row: { chunk_count: number; processing_completed_at: Date }[] = await ds.query(
      `SELECT chunk_count, processing_completed_at FROM documents WHERE id = $1`,
      [doc.id],
    );
    expect(row[0].chunk_count).toBe(2);
    expect(row[0].processing_completed_at).toBeInstanceOf(Date);
    const hits: { ordinal: number }[] = await ds.query(
      `SELECT ordinal FROM chunks WHERE document_id = $1 AND tsv @@ to_tsquery('simple', 'quarry')`,
      [doc.id],
    );
    expect(hits).toEqual([{ ordinal: 0 }]);
    const hangul: { ordinal: number; text_hangul: string | null }[] = await ds.query(
      `SELECT ordinal, text_hangul FROM chunks WHERE document_id = $1 ORDER BY ordinal`,
      [doc.id],
    );
    expect(hangul).toEqual([
      { ordinal: 0, text_hangul: null },
      { ordinal: 1, text_hangul: '안녕하세요 쿼리' },
    ]);
    const trigram: { ordinal: number }[] = await ds.query(
      `SELECT ordinal FROM chunks WHERE document_id = $1 AND text_hangul LIKE '%하세%'`,
      [doc.id],
    );
    expect(trigram).toEqual([{ ordinal: 1 }]);
    const loaded = await ds.getRepository(Document).findOneByOrFail({ id: doc.id });
    expect(loaded.sizeBytes).toBe(doc.sizeBytes);
    expect(typeof loaded.sizeBytes).toBe('number');
  });

  it('keeps the Hangul runs of each chunk, in order, for the Hangul trigram index', async () => {
    const doc = await documentFactory(ds, { status: 'completed' })
      .withChunks(['Quarry는 3학년 test, 데비안리눅스! 漢字 ㄱㄴ 끝'])
      .create();
    const [row]: { text_hangul: string }[] = await ds.query(
      `SELECT text_hangul FROM chunks WHERE document_id = $1`,
      [doc.id],
    );
    expect(row.text_hangul).toBe('는 학년 데비안리눅스 끝');
  });

  describe('CHECK constraints reject impossible states', () => {
    const cases: [string, string, string][] = [
      [
        'completed without processing_completed_at',
        `status = 'completed', processing_completed_at = NULL`,
        'ck_documents_completed_at',
      ],
      ['progress above 100', `progress = 101`, 'ck_documents_progress'],
      ['progress below 0', `progress = -1`, 'ck_documents_progress'],
      ['negative generation', `generation = -1`, 'ck_documents_generation'],
      ['unknown status', `status = 'done'`, 'ck_documents_status'],
      ['negative attempts', `attempts = -1`, 'ck_documents_attempts'],
      ['negative chunk_count', `chunk_count = -1`, 'ck_documents_chunk_count'],
      [
        'deleted without deleted_at',
        `status = 'deleted', deleted_at = NULL`,
        'ck_documents_deleted_at',
      ],
    ];
    it.each(cases)('%s', async (_label, assignment, constraint) => {
      const doc = await documentFactory(ds).create();
      const attempt = ds.query(`UPDATE documents SET ${assignment} WHERE id = $1`, [doc.id]);
      await expect(attempt).rejects.toBeInstanceOf(QueryFailedError);
      await expect(attempt).rejects.toMatchObject({ driverError: { code: '23514', constraint } });
    });

    it('accepts the matching valid states', async () => {
      const doc = await documentFactory(ds).create();
      await ds.query(
        `UPDATE documents SET status = 'completed', processing_completed_at = now(), progress = 100 WHERE id = $1`,
        [doc.id],
      );
      await ds.query(`UPDATE documents SET status = 'deleted', deleted_at = now() WHERE id = $1`, [
        doc.id,
      ]);
      const [row] = await ds.query(`SELECT status FROM documents WHERE id = $1`, [doc.id]);
      expect(row.status).toBe('deleted');
    });

    it('keeps a collection with documents, cascades document deletes to blobs and chunks', async () => {
      const doc = await documentFactory(ds).withChunks(2).create();
      await expect(
        ds.query(`DELETE FROM collections WHERE id = $1`, [doc.collectionId]),
      ).rejects.toMatchObject({
        driverError: { code: '23503' },
      });
      await ds.query(`DELETE FROM documents WHERE id = $1`, [doc.id]);
      const [counts] = await ds.query(
        `SELECT (SELECT count(*) FROM chunks WHERE document_id = $1)::int AS chunks,
                (SELECT count(*) FROM document_blobs WHERE document_id = $1)::int AS blobs`,
        [doc.id],
      );
      expect(counts).toEqual({ chunks: 0, blobs: 0 });
    });

    it('rejects a duplicate chunk ordinal within one generation and a duplicate key hash', async () => {
      const doc = await documentFactory(ds).withChunks(1).create();
      await expect(
        ds.query(
          `INSERT INTO chunks (document_id, generation, ordinal, text) VALUES ($1, 0, 0, 'x')`,
          [doc.id],
        ),
      ).rejects.toMatchObject({ driverError: { code: '23505' } });
      await ds.query(`INSERT INTO api_keys (owner_id, key_hash, name) VALUES ('o', 'h1', 'k')`);
      await expect(
        ds.query(`INSERT INTO api_keys (owner_id, key_hash, name) VALUES ('o', 'h1', 'k2')`),
      ).rejects.toMatchObject({ driverError: { code: '23505' } });
    });
  });
});
