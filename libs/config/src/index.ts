export * from './config.module';
export * from './environment-variables';
export * from './load-config';
export * from './quarry-config';
export * from './fatal-config';
