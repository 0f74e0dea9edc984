import * as fs from 'node:fs';
import * as path from 'node:path';
import { crc32 } from 'node:zlib';

const RECORD_HEADER = 8; // u32 length, u32 crc32 of the payload

export function walFileName(seq: number): string {
  return `wal-${String(seq).padStart(8, '0')}.log`;
}

/** WAL files of a collection directory, oldest first. */
export function listWalFiles(dir: string): Array<{ seq: number; file: string }> {
  return fs
    .readdirSync(dir)
    .map((name) => /^wal-(\d+)\.log$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ seq: Number(m[1]), file: path.join(dir, m[0]) }))
    .sort((a, b) => a.seq - b.seq);
}

/**
 * Reads every intact record of a WAL file. A torn or corrupt tail (a crash in the middle of
 * a write) ends the log: the file is cut back to the last intact record.
 */
export function replayWalFile(file: string, onRecord: (payload: Buffer) => void): void {
  const data = fs.readFileSync(file);
  let offset = 0;
  while (offset + RECORD_HEADER <= data.length) {
    const length = data.readUInt32LE(offset);
    const checksum = data.readUInt32LE(offset + 4);
    const end = offset + RECORD_HEADER + length;
    if (end > data.length) break;
    const payload = data.subarray(offset + RECORD_HEADER, end);
    if (crc32(payload) !== checksum) break;
    onRecord(payload);
    offset = end;
  }
  if (offset < data.length) fs.truncateSync(file, offset);
}

/**
 * An append-only log file. Every append reaches the operating system before the request is
 * answered (so it survives the process being killed); `sync()` makes it survive power loss
 * too, coalescing concurrent callers into as few fdatasync calls as possible.
 */
export class WriteAheadLog {
  private fd: number;
  private bytes: number;
  private inFlight: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  seq: number;

  constructor(
    private readonly dir: string,
    seq: number,
  ) {
    this.seq = seq;
    const file = path.join(dir, walFileName(seq));
    this.fd = fs.openSync(file, 'a');
    this.bytes = fs.fstatSync(this.fd).size;
  }

  get size(): number {
    return this.bytes;
  }

  append(payload: Buffer): void {
    const header = Buffer.allocUnsafe(RECORD_HEADER);
    header.writeUInt32LE(payload.length, 0);
    header.writeUInt32LE(crc32(payload), 4);
    // Two writes, no copy of a possibly large payload; a crash between them leaves a torn
    // record that replay cuts off.
    for (const part of [header, payload]) {
      let written = 0;
      while (written < part.length)
        written += fs.writeSync(this.fd, part, written, part.length - written);
    }
    this.bytes += RECORD_HEADER + payload.length;
  }

  sync(): Promise<void> {
    if (this.queued) return this.queued;
    if (this.inFlight) {
      const next = () => {
        this.queued = null;
        return this.startSync();
      };
      this.queued = this.inFlight.then(next, next);
      return this.queued;
    }
    return this.startSync();
  }

  private startSync(): Promise<void> {
    const fd = this.fd;
    const p = new Promise<void>((resolve, reject) => {
      fs.fdatasync(fd, (err) => (err ? reject(err) : resolve()));
    });
    this.inFlight = p;
    const clear = () => {
      if (this.inFlight === p) this.inFlight = null;
    };
    p.then(clear, clear);
    return p;
  }

  /** Starts a new file; everything in the old one is made durable first. Returns the old seq. */
  rotate(): number {
    const oldFd = this.fd;
    const oldSeq = this.seq;
    fs.fdatasyncSync(oldFd);
    this.seq = oldSeq + 1;
    this.fd = fs.openSync(path.join(this.dir, walFileName(this.seq)), 'a');
    this.bytes = 0;
    this.closeWhenIdle(oldFd);
    return oldSeq;
  }

  private closeWhenIdle(fd: number): void {
    const pending = [this.inFlight, this.queued].filter((p): p is Promise<void> => p !== null);
    const close = () => {
      try {
        fs.closeSync(fd);
      } catch {
        // already closed
      }
    };
    if (pending.length === 0) close();
    else Promise.allSettled(pending).then(close, close);
  }

  close(): void {
    try {
      fs.fdatasyncSync(this.fd);
    } catch {
      // the directory may be gone already (collection deleted)
    }
    this.closeWhenIdle(this.fd);
  }
}

/** Writes a file so that after return it is complete on disk under its final name. */
export async function writeFileDurably(file: string, data: Buffer): Promise<void> {
  const tmp = `${file}.tmp`;
  const handle = await fs.promises.open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await fs.promises.rename(tmp, file);
  syncDir(path.dirname(file));
}

export function syncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // some filesystems refuse fsync on directories
  }
}
