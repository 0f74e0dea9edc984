import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The data model of ARCHITECTURE.md. CHECK constraints make impossible states
 * unstorable, so a bug shows up as a failed statement instead of silent drift.
 */
export class InitialSchema1763769600000 implements MigrationInterface {
  name = 'InitialSchema1763769600000';

  async up(q: QueryRunner): Promise<void> {
    // Trigram index for keyword search in languages without word boundaries (Korean).
    await q.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm`);

    await q.query(`
      CREATE TABLE collections (
        id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
        owner_id    text        NOT NULL,
        name        text        NOT NULL,
        description text,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX ix_collections_owner ON collections (owner_id, created_at)`);

    await q.query(`
      CREATE TABLE documents (
        id                      uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
        collection_id           uuid        NOT NULL
          CONSTRAINT fk_documents_collection REFERENCES collections (id) ON DELETE RESTRICT,
        owner_id                text        NOT NULL,
        filename                text        NOT NULL,
        mime_type               text        NOT NULL,
        size_bytes              bigint      NOT NULL,
        sha256                  text        NOT NULL,
        status                  text        NOT NULL DEFAULT 'pending',
        generation              integer     NOT NULL DEFAULT 0,
        progress                smallint    NOT NULL DEFAULT 0,
        stage                   text,
        error                   text,
        attempts                integer     NOT NULL DEFAULT 0,
        chunk_count             integer     NOT NULL DEFAULT 0,
        chunks_total            integer     NOT NULL DEFAULT 0,
        chunks_done             integer     NOT NULL DEFAULT 0,
        embedding_model         text,
        metadata                jsonb       NOT NULL DEFAULT '{}'::jsonb,
        heartbeat_at            timestamptz,
        processing_started_at   timestamptz,
        processing_completed_at timestamptz,
        deleted_at              timestamptz,
        created_at              timestamptz NOT NULL DEFAULT now(),
        updated_at              timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT ck_documents_status CHECK (status IN
          ('pending', 'processing', 'completed', 'failed', 'deleting', 'deleted')),
        CONSTRAINT ck_documents_completed_at CHECK
          (status <> 'completed' OR processing_completed_at IS NOT NULL),
        CONSTRAINT ck_documents_deleted_at CHECK (status <> 'deleted' OR deleted_at IS NOT NULL),
        CONSTRAINT ck_documents_progress CHECK (progress BETWEEN 0 AND 100),
        CONSTRAINT ck_documents_generation CHECK (generation >= 0),
        CONSTRAINT ck_documents_attempts CHECK (attempts >= 0),
        CONSTRAINT ck_documents_chunk_count CHECK (chunk_count >= 0),
        CONSTRAINT ck_documents_chunks_progress CHECK (chunks_total >= 0 AND chunks_done >= 0),
        CONSTRAINT ck_documents_size CHECK (size_bytes >= 0),
        CONSTRAINT ck_documents_sha256 CHECK (sha256 ~ '^[0-9a-f]{64}$'),
        CONSTRAINT ck_documents_metadata CHECK (jsonb_typeof(metadata) = 'object')
      )`);
    await q.query(
      `CREATE INDEX ix_documents_owner_collection_created ON documents (owner_id, collection_id, created_at)`,
    );
    await q.query(`CREATE INDEX ix_documents_status ON documents (status)`);
    await q.query(
      `CREATE INDEX ix_documents_collection_sha256 ON documents (collection_id, sha256)`,
    );

    await q.query(`
      CREATE TABLE document_blobs (
        document_id uuid        PRIMARY KEY
          CONSTRAINT fk_document_blobs_document REFERENCES documents (id) ON DELETE CASCADE,
        content     bytea       NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE chunks (
        id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
        document_id uuid        NOT NULL
          CONSTRAINT fk_chunks_document REFERENCES documents (id) ON DELETE CASCADE,
        generation  integer     NOT NULL,
        ordinal     integer     NOT NULL,
        text        text        NOT NULL,
        token_count integer     NOT NULL DEFAULT 0,
        page        integer,
        char_start  integer,
        char_end    integer,
        tsv         tsvector    GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED,
        created_at  timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_chunks_document_generation_ordinal UNIQUE (document_id, generation, ordinal),
        CONSTRAINT ck_chunks_generation CHECK (generation >= 0),
        CONSTRAINT ck_chunks_ordinal CHECK (ordinal >= 0),
        CONSTRAINT ck_chunks_token_count CHECK (token_count >= 0),
        CONSTRAINT ck_chunks_char_range CHECK
          (char_start IS NULL OR char_end IS NULL OR (char_start >= 0 AND char_end >= char_start))
      )`);
    await q.query(`CREATE INDEX ix_chunks_tsv ON chunks USING gin (tsv)`);
    await q.query(`CREATE INDEX ix_chunks_text_trgm ON chunks USING gin (text gin_trgm_ops)`);

    await q.query(`
      CREATE TABLE api_keys (
        id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
        owner_id     text        NOT NULL,
        role         text        NOT NULL DEFAULT 'user',
        key_hash     text        NOT NULL,
        name         text        NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        revoked_at   timestamptz,
        CONSTRAINT uq_api_keys_key_hash UNIQUE (key_hash),
        CONSTRAINT ck_api_keys_role CHECK (role IN ('user', 'admin'))
      )`);
    await q.query(`CREATE INDEX ix_api_keys_owner ON api_keys (owner_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS api_keys`);
    await q.query(`DROP TABLE IF EXISTS chunks`);
    await q.query(`DROP TABLE IF EXISTS document_blobs`);
    await q.query(`DROP TABLE IF EXISTS documents`);
    await q.query(`DROP TABLE IF EXISTS collections`);
  }
}
