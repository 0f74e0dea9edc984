/**
 * Every failure the pipeline raises is one of two kinds. The worker retries only
 * transient ones; a permanent one fails the document at once with `message`, which is
 * written for the person who uploaded it.
 */
export abstract class PipelineError extends Error {
  abstract readonly permanent: boolean;
  /** Stable machine-readable reason, stored with the document and used in metrics. */
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class PermanentPipelineError extends PipelineError {
  readonly permanent = true;
  readonly code: string = 'permanent';
}

export class TransientPipelineError extends PipelineError {
  readonly permanent = false;
  readonly code: string = 'transient';
}

export class UnsupportedTypeError extends PermanentPipelineError {
  override readonly code = 'unsupported_type';
  constructor(
    readonly detected: string,
    message = `This file type is not supported (${detected}). Upload a PDF, DOCX, HTML, Markdown or plain-text file.`,
  ) {
    super(message);
  }
}

export class CorruptDocumentError extends PermanentPipelineError {
  override readonly code = 'corrupt_document';
}

export class EncryptedDocumentError extends PermanentPipelineError {
  override readonly code = 'encrypted_document';
}

export class NoExtractableTextError extends PermanentPipelineError {
  override readonly code = 'no_extractable_text';
}

/**
 * The document is bigger than a configured cap allows (pages, characters, chunks, archive
 * expansion, thread heap). `limit` is the setting's name, and the message names it too,
 * so the person who uploaded it and the operator both see which cap was hit.
 */
export class ExtractionLimitError extends PermanentPipelineError {
  override readonly code = 'limit_exceeded';
  constructor(
    readonly limit: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Extraction ran past `EXTRACT_TIMEOUT_MS` and its thread was stopped. Permanent: the same
 * bytes would take as long on the next worker.
 */
export class ExtractionTimeoutError extends PermanentPipelineError {
  override readonly code = 'extraction_timeout';
}

/** The embedding service refused the request (4xx other than 429) or answered nonsense. */
export class EmbedderRejectedError extends PermanentPipelineError {
  override readonly code = 'embedder_rejected';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** The configured dimension does not match what the model returns: fix configuration. */
export class EmbeddingDimensionMismatchError extends PermanentPipelineError {
  override readonly code = 'embedding_dimension_mismatch';
}

/** The local model folder or its files cannot be used: fix the folder, then restart. */
export class EmbeddingModelError extends PermanentPipelineError {
  override readonly code = 'embedding_model_invalid';
}

/** Timeouts, network errors, 429 and 5xx after the embedder's own retries ran out. */
export class EmbedderUnavailableError extends TransientPipelineError {
  override readonly code = 'embedder_unavailable';
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * True for errors that retrying cannot fix. Unknown errors (a bug, a lost database
 * connection) count as transient, so the retry budget decides instead of this guess.
 */
export function isPermanent(err: unknown): boolean {
  return err instanceof PipelineError && err.permanent;
}
