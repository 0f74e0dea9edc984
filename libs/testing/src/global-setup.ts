import { startTestQdrant } from './qdrant-test-server';

/**
 * Runs once before the integration tier: makes sure the shared outside services the
 * tests need are there. Each test file creates (and drops) its own database.
 */
export default async function globalSetup(): Promise<void> {
  await startTestQdrant();
}
