import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Storing a chunk row cost more than extracting and embedding it, and most of that was
 * the trigram index over the whole text. Keyword search uses trigrams only for Korean
 * words (`LIKE '%stem%'` on a Hangul stem; every other word goes through the tsvector),
 * so the index now covers the Hangul runs of each chunk alone: `text_hangul` keeps them
 * in order, separated by one space, which finds exactly the chunks whose text contains
 * a Hangul-only stem. English text no longer feeds the trigram index at all.
 *
 * New rows of the large columns are compressed with lz4 instead of pglz: several times
 * faster to write, about as small. Where the server was built without lz4 the columns
 * keep the default. Adding the stored column rewrites `chunks` once.
 */
export class CheaperChunkIndexing1764547200000 implements MigrationInterface {
  name = 'CheaperChunkIndexing1764547200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE chunks ADD COLUMN text_hangul text GENERATED ALWAYS AS
        (NULLIF(btrim(regexp_replace(text, '[^\\uAC00-\\uD7A3]+', ' ', 'g')), '')) STORED`);
    await q.query(
      `CREATE INDEX ix_chunks_text_hangul_trgm ON chunks USING gin (text_hangul gin_trgm_ops)`,
    );
    await q.query(`DROP INDEX ix_chunks_text_trgm`);
    await q.query(`
      DO $$
      BEGIN
        ALTER TABLE chunks ALTER COLUMN text SET COMPRESSION lz4,
                           ALTER COLUMN tsv SET COMPRESSION lz4,
                           ALTER COLUMN text_hangul SET COMPRESSION lz4;
        ALTER TABLE document_blobs ALTER COLUMN content SET COMPRESSION lz4;
      EXCEPTION WHEN feature_not_supported THEN
        RAISE NOTICE 'lz4 is not available on this server: chunks and blobs stay on pglz';
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX ix_chunks_text_trgm ON chunks USING gin (text gin_trgm_ops)`);
    await q.query(`ALTER TABLE chunks DROP COLUMN text_hangul`);
    await q.query(`
      ALTER TABLE chunks ALTER COLUMN text SET COMPRESSION default,
                         ALTER COLUMN tsv SET COMPRESSION default`);
    await q.query(`ALTER TABLE document_blobs ALTER COLUMN content SET COMPRESSION default`);
  }
}
