export * from './chunk-point.types';
export * from './point-id';
export { QdrantGateway, toQdrantFilter } from './qdrant.gateway';
export { backoffDelayMs, classifyFailure } from './retry-policy';
export type { FailureClass } from './retry-policy';
export * from './vector.errors';
export * from './vector.health';
export * from './vector.module';
export * from './vector-module-options';
