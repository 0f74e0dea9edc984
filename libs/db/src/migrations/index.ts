import { InitialSchema1763769600000 } from './0001-initial-schema';
import { CheaperChunkIndexing1764547200000 } from './0002-cheaper-chunk-indexing';

/** In order. A new migration is a new numbered file added here; never edit a shipped one. */
export const MIGRATIONS = [InitialSchema1763769600000, CheaperChunkIndexing1764547200000];
