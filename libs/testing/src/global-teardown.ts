import { stopTestQdrant } from './qdrant-test-server';

export default async function globalTeardown(): Promise<void> {
  await stopTestQdrant();
}
