import { InitialSchema1763769600000 } from './0001-initial-schema';

/** In order. A new migration is a new numbered file added here; never edit a shipped one. */
export const MIGRATIONS = [InitialSchema1763769600000];
