import { Collection, PointRecord } from './collection';
import { CollectionConfigJson } from './collection-config';
import { JsonObject } from './json-value';
import { PointId } from './point-id';
import { QdrantError } from './qdrant-error';
import { SparseVector } from './update-operation';

const MAGIC = Buffer.from('QEMUSEG1');

interface SegmentHeader {
  name: string;
  config: CollectionConfigJson;
  indexes: Array<[string, JsonObject]>;
  lastOpId: number;
  points: Array<{
    id: PointId;
    payload: JsonObject;
    version: number;
    dense: string[];
    sparse?: Record<string, SparseVector>;
  }>;
}

/**
 * The whole state of a collection in one file: [magic][u32 header length][header JSON]
 * [float32 vectors of every point, in header order]. Used for compaction and for snapshots.
 */
export function encodeSegment(collection: Collection): Buffer {
  let floats = 0;
  const points: SegmentHeader['points'] = [];
  for (const record of collection.points.values()) {
    const dense = [...record.dense.keys()];
    for (const name of dense) floats += collection.dense.get(name)?.store.dim ?? 0;
    const entry: SegmentHeader['points'][number] = {
      id: record.id,
      payload: record.payload,
      version: record.version,
      dense,
    };
    if (record.sparse.size > 0) entry.sparse = Object.fromEntries(record.sparse);
    points.push(entry);
  }
  const header: SegmentHeader = {
    name: collection.name,
    config: collection.config,
    indexes: [...collection.indexes],
    lastOpId: collection.lastOpId,
    points,
  };
  const json = Buffer.from(JSON.stringify(header));
  const out = Buffer.allocUnsafe(MAGIC.length + 4 + json.length + floats * 4);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(json.length, MAGIC.length);
  json.copy(out, MAGIC.length + 4);
  let offset = MAGIC.length + 4 + json.length;
  for (const record of collection.points.values()) {
    for (const [name, slot] of record.dense) {
      const view = collection.dense.get(name)?.store.view(slot);
      if (!view) continue;
      Buffer.from(view.buffer, view.byteOffset, view.byteLength).copy(out, offset);
      offset += view.byteLength;
    }
  }
  return out;
}

export function decodeSegment(data: Buffer, name?: string): Collection {
  if (data.length < MAGIC.length + 4 || !data.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw QdrantError.wrongInput('Snapshot is not a valid collection snapshot');
  }
  const headerLength = data.readUInt32LE(MAGIC.length);
  let header: SegmentHeader;
  try {
    header = JSON.parse(
      data.toString('utf8', MAGIC.length + 4, MAGIC.length + 4 + headerLength),
    ) as SegmentHeader;
  } catch {
    throw QdrantError.wrongInput('Snapshot is not a valid collection snapshot');
  }
  const collection = new Collection(name ?? header.name, header.config);
  for (const [field, info] of header.indexes) collection.indexes.set(field, info);
  collection.lastOpId = header.lastOpId;
  let offset = MAGIC.length + 4 + headerLength;
  for (const entry of header.points) {
    const record = new PointRecord(entry.id);
    record.payload = entry.payload;
    record.version = entry.version;
    for (const vectorName of entry.dense) {
      const index = collection.dense.get(vectorName);
      if (!index) continue;
      const dim = index.store.dim;
      const vector = new Float32Array(dim);
      Buffer.from(vector.buffer).set(data.subarray(offset, offset + dim * 4));
      offset += dim * 4;
      const slot = index.store.allocate();
      index.store.write(slot, vector);
      index.owners[slot] = record;
      record.dense.set(vectorName, slot);
    }
    for (const [vectorName, sv] of Object.entries(entry.sparse ?? {}))
      record.sparse.set(vectorName, sv);
    collection.points.set(record.id, record);
  }
  collection.rebuildValueIndexes();
  return collection;
}
