export * from './qdrant-test-server';
