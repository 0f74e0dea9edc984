import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AliasAction, AliasStore } from './alias-store';
import { Collection } from './collection';
import { CollectionConfigJson } from './collection-config';
import { QdrantError } from './qdrant-error';
import { decodeSegment, encodeSegment } from './segment-file';
import { decodeOperation, encodeOperation, UpdateOperation } from './update-operation';
import {
  listWalFiles,
  replayWalFile,
  syncDir,
  WriteAheadLog,
  writeFileDurably,
} from './write-ahead-log';

const SEGMENT = 'segment.bin';
const FULL_SNAPSHOT_FORMAT = 'qdrant-emulator-full-snapshot-1';

interface StoredCollection {
  collection: Collection;
  dir: string;
  wal: WriteAheadLog;
  compacting: Promise<void> | null;
  deleted: boolean;
}

export interface SnapshotDescription {
  name: string;
  creation_time: string;
  size: number;
  checksum: string;
}

export interface RegistryOptions {
  /** WAL size after which the collection is compacted into a new segment file. */
  compactAfterBytes?: number;
}

/**
 * All collections of one storage directory and their durability: every update is appended
 * to the collection's WAL before it is applied and answered; WALs are folded into a segment
 * file in the background once they grow.
 */
export class CollectionRegistry {
  private readonly collections = new Map<string, StoredCollection>();
  private readonly collectionsDir: string;
  private readonly snapshotsDir: string;
  private readonly compactAfterBytes: number;
  readonly aliases: AliasStore;

  constructor(
    readonly storageDir: string,
    options: RegistryOptions = {},
  ) {
    this.collectionsDir = path.join(storageDir, 'collections');
    this.snapshotsDir = path.join(storageDir, 'snapshots');
    this.compactAfterBytes = options.compactAfterBytes ?? 256 * 1024 * 1024;
    this.aliases = new AliasStore(storageDir);
  }

  open(): void {
    fs.mkdirSync(this.collectionsDir, { recursive: true });
    fs.mkdirSync(this.snapshotsDir, { recursive: true });
    this.aliases.load();
    for (const entry of fs.readdirSync(this.collectionsDir)) {
      const dir = path.join(this.collectionsDir, entry);
      if (entry.startsWith('.')) {
        fs.rmSync(dir, { recursive: true, force: true });
        continue;
      }
      const segment = path.join(dir, SEGMENT);
      if (!fs.existsSync(segment)) {
        fs.rmSync(dir, { recursive: true, force: true });
        continue;
      }
      const collection = decodeSegment(fs.readFileSync(segment));
      const walFiles = listWalFiles(dir);
      for (const { file } of walFiles) {
        replayWalFile(file, (payload) => {
          const { opId, op } = decodeOperation(payload);
          if (opId > collection.lastOpId) collection.apply(opId, op);
        });
      }
      const lastSeq = walFiles.length > 0 ? walFiles[walFiles.length - 1].seq : 0;
      this.collections.set(collection.name, {
        collection,
        dir,
        wal: new WriteAheadLog(dir, lastSeq + 1),
        compacting: null,
        deleted: false,
      });
    }
  }

  names(): string[] {
    return [...this.collections.keys()];
  }

  /** A collection or an alias of one, as Qdrant's `exists`. */
  has(name: string): boolean {
    return this.collections.has(name) || this.aliases.has(name);
  }

  /** The collection a name stands for: the collection itself, else the one its alias points to. */
  resolve(name: string): string {
    if (this.collections.has(name)) return name;
    const target = this.aliases.target(name);
    if (target !== undefined && this.collections.has(target)) return target;
    throw QdrantError.collectionNotFound(name);
  }

  get(name: string): Collection {
    return this.stored(name).collection;
  }

  private stored(name: string): StoredCollection {
    const stored = this.collections.get(name) ?? this.collections.get(this.resolve(name));
    if (!stored) throw QdrantError.collectionNotFound(name);
    return stored;
  }

  async create(name: string, config: CollectionConfigJson): Promise<void> {
    if (this.collections.has(name))
      throw QdrantError.conflict(`Collection \`${name}\` already exists!`);
    if (this.aliases.has(name)) {
      throw QdrantError.wrongInput(
        `Can't create collection with name ${name}. Alias with the same name already exists`,
      );
    }
    await this.install(new Collection(name, config));
  }

  /** Writes a collection's directory under a temporary name, then renames it into place. */
  private async install(collection: Collection): Promise<void> {
    const name = collection.name;
    const dir = path.join(this.collectionsDir, encodeURIComponent(name));
    const tmp = path.join(this.collectionsDir, `.new-${randomBytes(6).toString('hex')}`);
    fs.mkdirSync(tmp, { recursive: true });
    await writeFileDurably(path.join(tmp, SEGMENT), encodeSegment(collection));
    if (this.collections.has(name))
      throw QdrantError.conflict(`Collection \`${name}\` already exists!`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
    syncDir(this.collectionsDir);
    this.collections.set(name, {
      collection,
      dir,
      wal: new WriteAheadLog(dir, 1),
      compacting: null,
      deleted: false,
    });
  }

  /**
   * Applies alias actions in order on a copy and installs the result in one step: a reader
   * sees either the old mapping or the new one, and a failing action changes nothing.
   */
  async updateAliases(actions: AliasAction[]): Promise<void> {
    const next = this.aliases.draft();
    for (const action of actions) {
      if (action.kind === 'create') {
        if (!this.collections.has(action.collection))
          throw QdrantError.collectionNotFound(action.collection);
        if (this.collections.has(action.alias))
          throw QdrantError.conflict(`Collection \`${action.alias}\` already exists!`);
        next.set(action.alias, action.collection);
      } else if (action.kind === 'delete') {
        next.delete(action.alias);
      } else {
        const target = next.get(action.alias);
        if (target === undefined)
          throw QdrantError.notFound(`Alias ${action.alias} does not exists!`);
        next.delete(action.alias);
        next.set(action.newAlias, target);
      }
    }
    await this.aliases.replace(next);
  }

  /** Deletes a collection by its own name (never through an alias) and drops its aliases. */
  async delete(name: string): Promise<boolean> {
    const deleted = this.drop(name);
    if (deleted) await this.aliases.removeCollection(name);
    return deleted;
  }

  private drop(name: string): boolean {
    const stored = this.collections.get(name);
    if (!stored) return false;
    this.collections.delete(name);
    stored.deleted = true;
    stored.wal.close();
    const trash = path.join(this.collectionsDir, `.trash-${randomBytes(6).toString('hex')}`);
    fs.renameSync(stored.dir, trash);
    syncDir(this.collectionsDir);
    fs.rm(trash, { recursive: true, force: true }, () => undefined);
    return true;
  }

  /**
   * Logs and applies operations in order. With `wait` the log is flushed to disk before the
   * promise resolves; without it the write is in the operating system's hands (it survives
   * the process being killed, not a power cut), as Qdrant's `acknowledged`.
   */
  async commit(name: string, ops: UpdateOperation[], wait: boolean): Promise<number[]> {
    const stored = this.stored(name);
    const ids: number[] = [];
    for (const op of ops) {
      const opId = stored.collection.lastOpId + 1;
      stored.wal.append(encodeOperation(opId, op, true));
      stored.collection.apply(opId, op);
      ids.push(opId);
    }
    if (wait) await stored.wal.sync();
    if (stored.wal.size > this.compactAfterBytes && !stored.compacting) {
      stored.compacting = this.compact(stored).finally(() => {
        stored.compacting = null;
      });
    }
    return ids;
  }

  /** Folds the WAL into a new segment file; updates keep flowing into a fresh WAL meanwhile. */
  private async compact(stored: StoredCollection): Promise<void> {
    const oldSeq = stored.wal.rotate();
    const segment = encodeSegment(stored.collection);
    try {
      await writeFileDurably(path.join(stored.dir, SEGMENT), segment);
      if (stored.deleted) return;
      for (const { seq, file } of listWalFiles(stored.dir)) {
        if (seq <= oldSeq) fs.rmSync(file, { force: true });
      }
    } catch (err) {
      if (!stored.deleted) throw err;
    }
  }

  /** Waits for running compactions (tests and shutdown). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.collections.values()].map((s) => s.compacting));
  }

  async compactNow(name: string): Promise<void> {
    const stored = this.stored(name);
    if (stored.compacting) await stored.compacting;
    await this.compact(stored);
  }

  private snapshotDir(name: string): string {
    return path.join(this.snapshotsDir, encodeURIComponent(name));
  }

  /** Writes a snapshot file and its checksum into `dir`, named `<prefix>-<n>-<time>.snapshot`. */
  private async writeSnapshot(
    dir: string,
    prefix: string,
    data: Buffer,
  ): Promise<SnapshotDescription> {
    const now = new Date();
    const stamp = now.toISOString().slice(0, 19).replace(/[T:]/g, '-');
    const snapshotName = `${prefix}-${randomBytes(4).readUInt32LE(0)}-${stamp}.snapshot`;
    fs.mkdirSync(dir, { recursive: true });
    const checksum = createHash('sha256').update(data).digest('hex');
    await writeFileDurably(path.join(dir, snapshotName), data);
    fs.writeFileSync(path.join(dir, `${snapshotName}.checksum`), checksum);
    return {
      name: snapshotName,
      creation_time: now.toISOString().slice(0, 19),
      size: data.length,
      checksum,
    };
  }

  async createSnapshot(alias: string): Promise<SnapshotDescription> {
    const name = this.resolve(alias);
    return this.writeSnapshot(this.snapshotDir(name), name, encodeSegment(this.get(name)));
  }

  /**
   * A snapshot of the whole storage: every collection's segment and the aliases. As with
   * Qdrant, it is recovered at start (`--storage-snapshot`), not through the REST API.
   */
  async createFullSnapshot(): Promise<SnapshotDescription> {
    const collections: Record<string, string> = {};
    for (const [name, stored] of this.collections)
      collections[name] = encodeSegment(stored.collection).toString('base64');
    const data = Buffer.from(
      JSON.stringify({ format: FULL_SNAPSHOT_FORMAT, aliases: this.aliases.list(), collections }),
    );
    return this.writeSnapshot(this.snapshotsDir, 'full-snapshot', data);
  }

  /** Installs a full snapshot's collections and aliases into an empty storage. */
  async recoverFullSnapshot(data: Buffer): Promise<void> {
    const parsed = JSON.parse(data.toString('utf8')) as {
      format?: string;
      aliases: Array<{ alias_name: string; collection_name: string }>;
      collections: Record<string, string>;
    };
    if (parsed.format !== FULL_SNAPSHOT_FORMAT)
      throw new Error('not a full snapshot of the Qdrant emulator');
    for (const [name, segment] of Object.entries(parsed.collections)) {
      this.drop(name);
      await this.install(decodeSegment(Buffer.from(segment, 'base64'), name));
    }
    await this.aliases.replace(
      new Map(parsed.aliases.map((a) => [a.alias_name, a.collection_name])),
    );
  }

  private listSnapshotsIn(dir: string): SnapshotDescription[] {
    if (!fs.existsSync(dir)) return [];
    return fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.snapshot') && fs.statSync(path.join(dir, f)).isFile())
      .map((f) => {
        const stat = fs.statSync(path.join(dir, f));
        const checksumFile = path.join(dir, `${f}.checksum`);
        return {
          name: f,
          creation_time: stat.mtime.toISOString().slice(0, 19),
          size: stat.size,
          checksum: fs.existsSync(checksumFile) ? fs.readFileSync(checksumFile, 'utf8') : '',
        };
      })
      .sort(
        (a, b) => a.creation_time.localeCompare(b.creation_time) || a.name.localeCompare(b.name),
      );
  }

  listSnapshots(alias: string): SnapshotDescription[] {
    return this.listSnapshotsIn(this.snapshotDir(this.resolve(alias)));
  }

  listFullSnapshots(): SnapshotDescription[] {
    return this.listSnapshotsIn(this.snapshotsDir);
  }

  /** A snapshot file by name; a name that would leave its directory is not found, as in Qdrant. */
  private snapshotIn(dir: string, snapshotName: string): string {
    const file = path.join(dir, snapshotName);
    if (
      !snapshotName.endsWith('.snapshot') ||
      path.dirname(file) !== dir ||
      !fs.existsSync(file) ||
      !fs.statSync(file).isFile()
    ) {
      throw QdrantError.notFound(`Snapshot ${snapshotName} not found`);
    }
    return file;
  }

  snapshotFile(alias: string, snapshotName: string): string {
    return this.snapshotIn(this.snapshotDir(this.resolve(alias)), snapshotName);
  }

  fullSnapshotFile(snapshotName: string): string {
    return this.snapshotIn(this.snapshotsDir, snapshotName);
  }

  deleteSnapshotFile(file: string): void {
    fs.rmSync(file, { force: true });
    fs.rmSync(`${file}.checksum`, { force: true });
  }

  /** Whether a local file lies inside the snapshots directory (the only place recovery reads). */
  insideSnapshots(file: string): boolean {
    let real: string;
    try {
      real = fs.realpathSync(file);
    } catch {
      return false;
    }
    const root = fs.realpathSync(this.snapshotsDir);
    return real.startsWith(`${root}${path.sep}`);
  }

  /** Replaces (or creates) a collection from a snapshot file's content. */
  async recover(name: string, data: Buffer, checksum?: string): Promise<void> {
    if (checksum) {
      const actual = createHash('sha256').update(data).digest('hex');
      if (actual !== checksum.toLowerCase()) {
        throw QdrantError.wrongInput(
          `Snapshot checksum mismatch: expected ${checksum}, got ${actual}`,
        );
      }
    }
    const collection = decodeSegment(data, name);
    // Recovery replaces the collection's content; its aliases stay.
    this.drop(name);
    await this.install(collection);
  }

  close(): void {
    for (const stored of this.collections.values()) stored.wal.close();
  }
}
