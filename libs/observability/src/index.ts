export * from './health-paths';
export * from './metric-names';
export * from './metrics.service';
export * from './observability.module';
export * from './shutdown-coordinator';
export * from './error-log-serializer';
export * from './request-log-serializers';
export * from './plain-http-server';
