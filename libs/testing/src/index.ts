export * from './qdrant-test-server';
export * from './database';
export * from './redis';
export * from './onnx-model-writer';
export * from './tiny-embedding-model';
export * from './fake-model-hub';
