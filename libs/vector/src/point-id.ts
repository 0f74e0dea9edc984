import { createHash } from 'node:crypto';

/**
 * Namespace of every Quarry point id. Point ids are stored in Qdrant and in the `chunks`
 * table, so changing this constant (or the name format below) orphans every existing
 * vector: treat it like a migration that needs a full reindex.
 */
export const QUARRY_POINT_NAMESPACE = 'ba984b8b-ec87-4b0a-8431-b484674de840';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** RFC 9562 (formerly RFC 4122) version 5 UUID: SHA-1 of namespace bytes + UTF-8 name. */
export function uuidV5(name: string, namespace: string): string {
  if (!UUID_PATTERN.test(namespace)) {
    throw new TypeError(`uuidV5: namespace must be a UUID, got "${namespace}"`);
  }
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replace(/-/g, ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x50;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The point id (and chunk id) of one chunk. Deterministic so that a retried ingest job
 * overwrites the points it already wrote instead of adding duplicates, and so that a new
 * generation never collides with the one it replaces.
 */
export function pointIdFor(documentId: string, generation: number, ordinal: number): string {
  if (!Number.isInteger(generation) || generation < 0) {
    throw new TypeError(`pointIdFor: generation must be a non-negative integer, got ${generation}`);
  }
  if (!Number.isInteger(ordinal) || ordinal < 0) {
    throw new TypeError(`pointIdFor: ordinal must be a non-negative integer, got ${ordinal}`);
  }
  return uuidV5(`${documentId.toLowerCase()}/${generation}/${ordinal}`, QUARRY_POINT_NAMESPACE);
}
