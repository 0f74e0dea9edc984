export * from './backup.service';
export * from './operations.module';
export * from './orphan-cleaner.service';
export * from './queue-control.service';
export * from './reindex.service';
export * from './reset.service';
