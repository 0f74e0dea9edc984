import {
  CorruptDocumentError,
  EmbedderRejectedError,
  EmbedderUnavailableError,
  EmbeddingDimensionMismatchError,
  EncryptedDocumentError,
  ExtractionLimitError,
  ExtractionTimeoutError,
  isPermanent,
  NoExtractableTextError,
  PermanentPipelineError,
  PipelineError,
  TransientPipelineError,
  UnsupportedTypeError,
} from './pipeline-errors';

describe('pipeline error classification', () => {
  it.each([
    [new UnsupportedTypeError('image/png'), 'unsupported_type'],
    [new CorruptDocumentError('damaged'), 'corrupt_document'],
    [new EncryptedDocumentError('locked'), 'encrypted_document'],
    [new ExtractionTimeoutError('slow'), 'extraction_timeout'],
    [new ExtractionLimitError('EXTRACT_MAX_CHARS', 'too long'), 'limit_exceeded'],
    [new NoExtractableTextError('empty'), 'no_extractable_text'],
    [new EmbedderRejectedError('bad request', 400), 'embedder_rejected'],
    [new EmbeddingDimensionMismatchError('384 vs 768'), 'embedding_dimension_mismatch'],
  ])('%s is permanent with code %s', (err, code) => {
    expect(err).toBeInstanceOf(PermanentPipelineError);
    expect(err).toBeInstanceOf(PipelineError);
    expect(err.code).toBe(code);
    expect(err.name).toBe(err.constructor.name);
    expect(isPermanent(err)).toBe(true);
  });

  it.each([
    [new EmbedderUnavailableError('HTTP 503', 503), 'embedder_unavailable'],
    [new TransientPipelineError('blip'), 'transient'],
  ])('%s is transient with code %s', (err, code) => {
    expect(err).toBeInstanceOf(TransientPipelineError);
    expect(err.code).toBe(code);
    expect(isPermanent(err)).toBe(false);
  });

  it('treats unknown errors as transient so the retry budget decides', () => {
    expect(isPermanent(new Error('connection terminated unexpectedly'))).toBe(false);
    expect(isPermanent('a string')).toBe(false);
    expect(isPermanent(undefined)).toBe(false);
  });

  it('names the detected type in the unsupported-type message', () => {
    expect(new UnsupportedTypeError('image/png').message).toBe(
      'This file type is not supported (image/png). Upload a PDF, DOCX, HTML, Markdown or plain-text file.',
    );
  });
});
