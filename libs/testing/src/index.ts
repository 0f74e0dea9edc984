export * from './qdrant-test-server';
export * from './database';
export * from './redis';
export * from './furnished-pdf';
export * from './seeded-random';
export * from './free-port';
export * from './redis-sentinel-cluster';
export * from './pgbouncer';
