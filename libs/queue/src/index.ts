export * from './job-catalogue';
export * from './job-policy';
export * from './job-queue.service';
export * from './queue.health';
export * from './queue.module';
export * from './queue.tokens';
export * from './redis-connection.factory';
