import { classify } from '../src/integrity.service';

const point = (generation: number) => ({
  id: '4f0c6f57-2f8e-5a57-9d39-7d5a3c1b8a10',
  payload: {
    document_id: '0b7e7c1e-8b44-4a43-9c4c-1f1f1f1f1f1f',
    collection_id: 'c',
    owner_id: 'o',
    generation,
    ordinal: 0,
  },
});
const row = (status: string, docGeneration: number, hasChunk: boolean) => ({
  status,
  doc_generation: docGeneration,
  has_chunk: hasChunk,
});

describe('classify: does a point belong?', () => {
  it('a completed document’s point at its generation with its chunk row is current', () => {
    expect(classify(point(3), row('completed', 3, true))).toBe('current');
  });

  it('a completed document’s point without its chunk row means the row was lost', () => {
    expect(classify(point(3), row('completed', 3, false))).toBe('lost_chunk_row');
  });

  it('an older or newer generation of a completed document is an orphan', () => {
    expect(classify(point(2), row('completed', 3, true))).toBe('orphan');
    expect(classify(point(4), row('completed', 3, false))).toBe('orphan');
  });

  it('points of an ingest in flight are never orphans', () => {
    expect(classify(point(3), row('processing', 3, false))).toBe('in_flight');
    expect(classify(point(3), row('pending', 3, false))).toBe('in_flight');
    // the previous generation keeps serving until the reprocess swap
    expect(classify(point(2), row('processing', 3, true))).toBe('in_flight');
  });

  it('a fenced-out generation of a document being reindexed is an orphan', () => {
    expect(classify(point(2), row('processing', 3, false))).toBe('orphan');
    expect(classify(point(2), row('pending', 3, false))).toBe('orphan');
  });

  it.each(['deleting', 'deleted', 'failed'])('every point of a %s document is an orphan', (s) => {
    expect(classify(point(3), row(s, 3, true))).toBe('orphan');
  });

  it('a point of an unknown document, or without a generation, is an orphan', () => {
    expect(classify(point(1), undefined)).toBe('orphan');
    expect(classify(point(1), { status: null, doc_generation: null, has_chunk: false })).toBe(
      'orphan',
    );
    expect(classify(point(Number.NaN), row('completed', 1, true))).toBe('orphan');
  });
});
