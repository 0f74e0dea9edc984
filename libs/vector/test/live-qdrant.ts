import type { VectorModuleOptions } from '@quarry/vector';

/**
 * Settings for tests that run against whatever QDRANT_URL names: the emulator the
 * integration tier starts, or a real Qdrant (QDRANT_URL=http://host:6333
 * [QDRANT_API_KEY=...] npx jest libs/vector). Only client calls are used, so both must
 * behave the same.
 */
export const TEST_DIM = 8;
/** Suffix that keeps this run's collections apart from another run's on a shared Qdrant. */
export const testRun = `${process.pid}_${Date.now().toString(36)}`;

export function qdrantUrl(): string {
  const url = process.env.QDRANT_URL;
  if (!url) throw new Error('QDRANT_URL is not set: the integration setup should have set it');
  return url;
}

export function gatewayOptions(
  collection: string,
  extra: Partial<VectorModuleOptions> = {},
): VectorModuleOptions {
  return {
    url: qdrantUrl(),
    apiKey: process.env.QDRANT_API_KEY || undefined,
    collection,
    dimension: TEST_DIM,
    timeoutMs: 10_000,
    retry: { attempts: 2, baseDelayMs: 50, maxDelayMs: 200 },
    ...extra,
  };
}
