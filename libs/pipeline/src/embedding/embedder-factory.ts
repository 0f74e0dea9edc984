import type { Embedder, EmbedderOptions } from './embedder';
import { HashingEmbedder } from './hashing-embedder';
import { OpenAiEmbedder } from './openai-embedder';

/** Builds the configured embedder; `hashing` unless `provider` says otherwise. */
export function createEmbedder(options: EmbedderOptions = {}): Embedder {
  const provider = options.provider ?? 'hashing';
  switch (provider) {
    case 'hashing':
      return new HashingEmbedder({ dimension: options.dimension, model: options.model });
    case 'openai':
      return new OpenAiEmbedder({
        baseUrl: options.baseUrl ?? '',
        model: options.model ?? '',
        apiKey: options.apiKey,
        dimension: options.dimension,
        batchSize: options.batchSize,
        timeoutMs: options.timeoutMs,
        maxAttempts: options.maxAttempts,
        maxBackoffMs: options.maxBackoffMs,
      });
    default: {
      const unknown: never = provider;
      throw new RangeError(
        `EMBEDDING_PROVIDER must be "hashing" or "openai" (got "${String(unknown)}")`,
      );
    }
  }
}
