export * from './qdrant-test-server';
export * from './database';
export * from './redis';
