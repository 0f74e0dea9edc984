export * from './qdrant-test-server';
export * from './database';
export * from './redis';
export * from './furnished-pdf';
export * from './seeded-random';
