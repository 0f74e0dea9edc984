import { SnakeNamingStrategy, snakeCase } from '@quarry/db';

describe('SnakeNamingStrategy', () => {
  const strategy = new SnakeNamingStrategy();

  it.each([
    ['processingCompletedAt', 'processing_completed_at'],
    ['sha256', 'sha256'],
    ['chunkCount', 'chunk_count'],
    ['HTTPStatus', 'http_status'],
    ['id', 'id'],
  ])('%s → %s', (input, expected) => {
    expect(snakeCase(input)).toBe(expected);
  });

  it('names columns, keeps explicit names, and snake_cases embedded prefixes', () => {
    expect(strategy.columnName('mimeType', '', [])).toBe('mime_type');
    expect(strategy.columnName('tsv', 'tsv', [])).toBe('tsv');
    expect(strategy.columnName('startedAt', '', ['jobInfo'])).toBe('job_info_started_at');
    expect(strategy.joinColumnName('collection', 'id')).toBe('collection_id');
    expect(strategy.tableName('DocumentBlob', undefined)).toBe('document_blob');
    expect(strategy.tableName('DocumentBlob', 'document_blobs')).toBe('document_blobs');
  });
});
