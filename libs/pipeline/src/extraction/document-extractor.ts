import type { Chunk, Chunker } from '../chunking/chunker';
import type { ExtractOptions } from './extract-document';
import type { ExtractedDocument } from './extracted-document';
import { DEFAULT_EXTRACTION_LIMITS, type ExtractionLimits } from './extraction-limits';
import { ExtractionPool } from './extraction-pool';

export type { ExtractOptions } from './extract-document';

export interface DocumentExtractorOptions extends Partial<ExtractionLimits> {
  /** A document that takes longer than this is abandoned and its thread replaced. */
  timeoutMs?: number;
  /** Old-generation heap of each extraction thread, in MiB. */
  maxHeapMb?: number;
  /** Extraction threads, each reading one document at a time. */
  threads?: number;
}

export const DEFAULT_EXTRACT_TIMEOUT_MS = 120_000;
export const DEFAULT_EXTRACT_MAX_HEAP_MB = 512;
export const DEFAULT_EXTRACT_THREADS = 2;

/**
 * Bytes in, `ExtractedDocument` out, for every supported type. Sniffing, decoding,
 * parsing and titling all run in a pool of threads it owns (see extract-document.ts), so
 * no document can stall the caller's event loop or exhaust its heap. One instance is
 * shared per process and closed on shutdown.
 */
export class DocumentExtractor {
  private readonly pool: ExtractionPool;

  constructor(options: DocumentExtractorOptions = {}) {
    const { timeoutMs, maxHeapMb, threads, ...limits } = options;
    this.pool = new ExtractionPool({
      threads: threads ?? DEFAULT_EXTRACT_THREADS,
      timeoutMs: timeoutMs ?? DEFAULT_EXTRACT_TIMEOUT_MS,
      maxHeapMb: maxHeapMb ?? DEFAULT_EXTRACT_MAX_HEAP_MB,
      limits: { ...DEFAULT_EXTRACTION_LIMITS, ...definedOnly(limits) },
    });
  }

  async extract(bytes: Uint8Array, options: ExtractOptions = {}): Promise<ExtractedDocument> {
    return (await this.pool.run(bytes, options)).doc;
  }

  /** `extract`, then `chunker.chunkDocument` of the result, both in the thread. */
  async extractAndChunk(
    bytes: Uint8Array,
    options: ExtractOptions,
    chunker: Chunker,
  ): Promise<{ doc: ExtractedDocument; chunks: Chunk[] }> {
    const { chunkSize, chunkOverlap, maxChunks } = chunker;
    const { doc, chunks } = await this.pool.run(bytes, options, {
      chunkSize,
      chunkOverlap,
      maxChunks,
    });
    return { doc, chunks: chunks ?? [] };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(values).filter(([, v]) => v !== undefined),
  ) as Partial<T>;
}
