export * from './core.module';
export * from './fatal-config';
