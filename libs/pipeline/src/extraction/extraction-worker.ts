import { parentPort, workerData } from 'node:worker_threads';
import { Chunker, type Chunk, type ChunkOptions } from '../chunking/chunker';
import { PipelineError, UnsupportedTypeError } from '../pipeline-errors';
import { extractDocument, type ExtractOptions } from './extract-document';
import type { ExtractedDocument } from './extracted-document';
import type { ExtractionLimits } from './extraction-limits';

/** Posted by ExtractionPool; `data` is transferred, so the thread owns it. */
export interface ExtractionRequest {
  id: number;
  data: ArrayBuffer;
  options: ExtractOptions;
  /** Also chunk the document here, with these options. */
  chunking?: ChunkOptions;
}

export interface ExtractionResult {
  doc: ExtractedDocument;
  chunks?: Chunk[];
}

/** A PipelineError crosses the thread boundary as plain fields (see reviveError). */
export interface SerialisedError {
  name: string;
  message: string;
  code?: string;
  limit?: string;
  detected?: string;
}

export type ExtractionReply =
  | { id: number; ok: true; result: ExtractionResult }
  | { id: number; ok: false; error: SerialisedError };

/*
 * The entry point of an extraction thread: one document at a time, every type. Whatever a
 * document does to this thread (a slow parse, a heap blow-up), the pool ends the thread
 * and the process that owns it carries on.
 */
const limits = (workerData as { limits: ExtractionLimits }).limits;

parentPort?.on('message', (request: ExtractionRequest) => {
  void extract(request).then(
    (result) =>
      parentPort?.postMessage({ id: request.id, ok: true, result } satisfies ExtractionReply),
    (err: unknown) =>
      parentPort?.postMessage({
        id: request.id,
        ok: false,
        error: serialise(err),
      } satisfies ExtractionReply),
  );
});

/*
 * Chunking a document at the EXTRACT_MAX_CHARS cap takes a few hundred milliseconds,
 * which is better spent here than on the caller's event loop.
 */
async function extract(request: ExtractionRequest): Promise<ExtractionResult> {
  const doc = await extractDocument(new Uint8Array(request.data), request.options, limits);
  if (!request.chunking) return { doc };
  return { doc, chunks: new Chunker(request.chunking).chunkDocument(doc) };
}

function serialise(err: unknown): SerialisedError {
  const base = {
    name: err instanceof Error ? err.name : 'Error',
    message: err instanceof Error ? err.message : String(err),
  };
  if (!(err instanceof PipelineError)) return base;
  return {
    ...base,
    code: err.code,
    limit: (err as { limit?: string }).limit,
    detected: err instanceof UnsupportedTypeError ? err.detected : undefined,
  };
}
