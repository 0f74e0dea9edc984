import { parentPort, workerData } from 'node:worker_threads';
import { PipelineError, UnsupportedTypeError } from '../pipeline-errors';
import { extractDocument, type ExtractOptions } from './extract-document';
import type { ExtractionLimits } from './extraction-limits';

/** Posted by ExtractionPool; `data` is transferred, so the thread owns it. */
export interface ExtractionRequest {
  id: number;
  data: ArrayBuffer;
  options: ExtractOptions;
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
  | { id: number; ok: true; doc: Awaited<ReturnType<typeof extractDocument>> }
  | { id: number; ok: false; error: SerialisedError };

/*
 * The entry point of an extraction thread: one document at a time, every type. Whatever a
 * document does to this thread (a slow parse, a heap blow-up), the pool ends the thread
 * and the process that owns it carries on.
 */
const limits = (workerData as { limits: ExtractionLimits }).limits;

parentPort?.on('message', (request: ExtractionRequest) => {
  void extractDocument(new Uint8Array(request.data), request.options, limits).then(
    (doc) => parentPort?.postMessage({ id: request.id, ok: true, doc } satisfies ExtractionReply),
    (err: unknown) =>
      parentPort?.postMessage({
        id: request.id,
        ok: false,
        error: serialise(err),
      } satisfies ExtractionReply),
  );
});

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
