export * from './keyword-terms';
export * from './rank-fusion';
export { decodeCursor, encodeCursor, searchFingerprint } from './search-cursor';
export type { SearchCursor } from './search-cursor';
export { validateFilter, validateSearch } from './search-request';
export type { ValidFilter, ValidSearch } from './search-request';
export * from './search.module';
export * from './search.service';
export * from './search.types';
