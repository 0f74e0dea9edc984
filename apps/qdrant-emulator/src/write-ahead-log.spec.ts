import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeOperation, encodeOperation } from './update-operation';
import { listWalFiles, replayWalFile, WriteAheadLog } from './write-ahead-log';

describe('WriteAheadLog', () => {
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wal-spec-'));
  });

  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const replay = (file: string) => {
    const records: string[] = [];
    replayWalFile(file, (payload) => records.push(payload.toString()));
    return records;
  };

  it('replays appended records in order and survives rotation', async () => {
    const wal = new WriteAheadLog(dir, 1);
    wal.append(Buffer.from('one'));
    wal.append(Buffer.from('two'));
    await wal.sync();
    expect(wal.rotate()).toBe(1);
    wal.append(Buffer.from('three'));
    await Promise.all([wal.sync(), wal.sync(), wal.sync()]);
    wal.close();
    const files = listWalFiles(dir);
    expect(files.map((f) => f.seq)).toEqual([1, 2]);
    expect(files.flatMap((f) => replay(f.file))).toEqual(['one', 'two', 'three']);
  });

  it('cuts a torn or corrupt tail back to the last intact record', () => {
    const wal = new WriteAheadLog(dir, 1);
    wal.append(Buffer.from('kept'));
    wal.append(Buffer.from('corrupted'));
    wal.close();
    const file = listWalFiles(dir)[0].file;
    const data = fs.readFileSync(file);
    data[data.length - 1] ^= 0xff;
    fs.writeFileSync(file, data);
    expect(replay(file)).toEqual(['kept']);
    expect(fs.statSync(file).size).toBe(8 + 'kept'.length);
  });

  it('round-trips operations with binary vectors', () => {
    const op = {
      type: 'upsert' as const,
      points: [
        {
          id: 7,
          payload: { a: [1, 'x'] },
          dense: new Map([['', Float32Array.from([0.5, -1.25])]]),
          sparse: new Map(),
        },
        {
          id: '00000000-0000-4000-8000-000000000001',
          dense: new Map([['t', Float32Array.from([3])]]),
          sparse: new Map([['w', { indices: [4], values: [0.5] }]]),
        },
      ],
    };
    const decoded = decodeOperation(encodeOperation(42, op));
    expect(decoded.opId).toBe(42);
    expect(decoded.op).toEqual(op);
    expect(decodeOperation(encodeOperation(3, { type: 'delete', ids: [1, 2] }))).toEqual({
      opId: 3,
      op: { type: 'delete', ids: [1, 2] },
    });
  });

  it('encodes into reused memory when asked, leaving other records alone', () => {
    const upsert = (id: number, values: number[], payload: Record<string, string>) => ({
      type: 'upsert' as const,
      points: [
        { id, payload, dense: new Map([['', Float32Array.from(values)]]), sparse: new Map() },
      ],
    });
    const kept = encodeOperation(1, upsert(1, [1, 2, 3], { t: 'é' }));
    const first = encodeOperation(2, upsert(2, [4, 5, 6], { t: '한국어' }), true);
    expect(decodeOperation(first)).toEqual({ opId: 2, op: upsert(2, [4, 5, 6], { t: '한국어' }) });
    // The same bytes as a record of its own.
    expect(first.equals(encodeOperation(2, upsert(2, [4, 5, 6], { t: '한국어' })))).toBe(true);
    const second = encodeOperation(3, upsert(3, [7, 8, 9, 10], { t: 'x' }), true);
    expect(second.buffer).toBe(first.buffer);
    expect(decodeOperation(second)).toEqual({ opId: 3, op: upsert(3, [7, 8, 9, 10], { t: 'x' }) });
    expect(decodeOperation(kept)).toEqual({ opId: 1, op: upsert(1, [1, 2, 3], { t: 'é' }) });
  });
});
