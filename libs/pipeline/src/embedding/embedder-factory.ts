import type { Embedder, EmbedderOptions } from './embedder';
import { HashingEmbedder } from './hashing-embedder';
import { LocalEmbedder } from './local-embedder';
import { OpenAiEmbedder } from './openai-embedder';

/** Builds the configured embedder; `hashing` unless `provider` says otherwise. */
export function createEmbedder(options: EmbedderOptions = {}): Embedder {
  const provider = options.provider ?? 'hashing';
  switch (provider) {
    case 'hashing':
      return new HashingEmbedder({
        dimension: options.dimension,
        model: options.model,
        fusion: options.fusion,
      });
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
        queryPrefix: options.queryPrefix,
        passagePrefix: options.passagePrefix,
        fusion: options.fusion,
      });
    case 'local':
      return new LocalEmbedder(options);
    default: {
      const unknown: never = provider;
      throw new RangeError(
        `EMBEDDING_PROVIDER must be "hashing", "openai" or "local" (got "${String(unknown)}")`,
      );
    }
  }
}
