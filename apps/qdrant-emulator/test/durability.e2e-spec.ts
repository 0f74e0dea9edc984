import { QdrantClient } from '@qdrant/js-client-rest';
import { emulatorEntryPoint, spawnQdrantEmulator, SpawnedQdrant } from '@quarry/testing';
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Emulator-only: these tests own their emulator process, kill it with SIGKILL right after
 * acknowledged writes, and check that a restart brings every acknowledged write back.
 */
describe('emulator durability', () => {
  const spawned: SpawnedQdrant[] = [];

  afterAll(async () => {
    for (const emulator of spawned) await emulator.stop();
  });

  const spawn = async (env?: Record<string, string>) => {
    const emulator = await spawnQdrantEmulator({ env });
    spawned.push(emulator);
    return { emulator, client: new QdrantClient({ url: emulator.url, checkCompatibility: false }) };
  };

  it('keeps every acknowledged write after SIGKILL and restart', async () => {
    const { emulator, client } = await spawn();
    await client.createCollection('crash', { vectors: { size: 3, distance: 'Cosine' } });
    await client.createPayloadIndex('crash', {
      field_name: 'doc',
      field_schema: 'keyword',
      wait: true,
    });
    for (let batch = 0; batch < 5; batch++) {
      await client.upsert('crash', {
        wait: true,
        points: Array.from({ length: 20 }, (_, i) => ({
          id: batch * 20 + i,
          vector: [batch + 1, i + 1, 1],
          payload: { doc: `d${batch}`, i },
        })),
      });
    }
    await client.setPayload('crash', { wait: true, points: [0], payload: { marked: true } });
    await client.delete('crash', {
      wait: true,
      filter: { must: [{ key: 'doc', match: { value: 'd4' } }] },
    });
    // Not waited for: acknowledged once it is in the log, so it must survive a process kill too.
    const ack = await client.upsert('crash', {
      wait: false,
      points: [{ id: 500, vector: [1, 1, 1] }],
    });
    expect(ack.status).toBe('acknowledged');
    const before = await client.query('crash', { query: [1, 2, 1], limit: 5 });

    await emulator.kill('SIGKILL');
    expect(emulator.lastExit?.signal).toBe('SIGKILL');
    await emulator.restart();

    await expect(client.count('crash', { exact: true })).resolves.toEqual({ count: 81 });
    const [zero] = await client.retrieve('crash', { ids: [0] });
    expect(zero.payload).toEqual({ doc: 'd0', i: 0, marked: true });
    await expect(
      client.count('crash', {
        exact: true,
        filter: { must: [{ key: 'doc', match: { value: 'd4' } }] },
      }),
    ).resolves.toEqual({ count: 0 });
    const [late] = await client.retrieve('crash', { ids: [500], with_vector: true });
    expect((late.vector as number[])[0]).toBeCloseTo(1 / Math.sqrt(3), 6);
    const after = await client.query('crash', { query: [1, 2, 1], limit: 5 });
    expect(after.points).toEqual(before.points);
    const info = await client.getCollection('crash');
    expect(Object.keys(info.payload_schema)).toEqual(['doc']);
  });

  it('compacts the log in the background and still recovers everything after SIGKILL', async () => {
    const { emulator, client } = await spawn({ QDRANT_EMULATOR_COMPACT_BYTES: '20000' });
    await client.createCollection('compact', { vectors: { size: 8, distance: 'Dot' } });
    for (let batch = 0; batch < 30; batch++) {
      await client.upsert('compact', {
        wait: true,
        points: Array.from({ length: 25 }, (_, i) => ({
          id: batch * 25 + i,
          vector: Array.from({ length: 8 }, (__, d) => (batch * 25 + i + d) % 7),
          payload: { batch },
        })),
      });
    }
    await client.delete('compact', { wait: true, points: [0, 1, 2] });
    const dir = path.join(emulator.storage, 'collections', 'compact');
    expect(fs.existsSync(path.join(dir, 'segment.bin'))).toBe(true);
    // 750 points x 8 floats would be far more than 20 kB of log: compaction must have folded it.
    const walBytes = fs
      .readdirSync(dir)
      .filter((f) => f.startsWith('wal-'))
      .reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0);
    expect(walBytes).toBeLessThan(200_000);

    await emulator.kill('SIGKILL');
    await emulator.restart();
    await expect(client.count('compact', { exact: true })).resolves.toEqual({ count: 747 });
    const [p] = await client.retrieve('compact', {
      ids: [749],
      with_vector: true,
      with_payload: true,
    });
    expect(p.payload).toEqual({ batch: 29 });
    expect(p.vector).toEqual(Array.from({ length: 8 }, (_, d) => (749 + d) % 7));
  });

  it('ignores a torn record at the end of the log', async () => {
    const { emulator, client } = await spawn();
    await client.createCollection('torn', { vectors: { size: 2, distance: 'Dot' } });
    await client.upsert('torn', { wait: true, points: [{ id: 1, vector: [1, 2] }] });
    await emulator.kill('SIGKILL');
    const dir = path.join(emulator.storage, 'collections', 'torn');
    const wal = fs
      .readdirSync(dir)
      .filter((f) => f.startsWith('wal-'))
      .sort()
      .pop() as string;
    // A write cut short by a crash: a length header promising more bytes than follow.
    fs.appendFileSync(path.join(dir, wal), Buffer.from([0xff, 0x00, 0x00, 0x00, 0x12, 0x34]));
    await emulator.restart();
    await expect(client.count('torn', { exact: true })).resolves.toEqual({ count: 1 });
    await client.upsert('torn', { wait: true, points: [{ id: 2, vector: [3, 4] }] });
    await emulator.kill('SIGKILL');
    await emulator.restart();
    await expect(client.count('torn', { exact: true })).resolves.toEqual({ count: 2 });
  });

  it('keeps deletions and recovered snapshots across restarts, and exits 0 on SIGTERM', async () => {
    const { emulator, client } = await spawn();
    await client.createCollection('gone', { vectors: { size: 2, distance: 'Dot' } });
    await client.createCollection('kept', { vectors: { size: 2, distance: 'Dot' } });
    await client.upsert('kept', { wait: true, points: [{ id: 1, vector: [1, 1] }] });
    await client.deleteCollection('gone');
    await emulator.kill('SIGTERM');
    expect(emulator.lastExit).toEqual({ code: 0, signal: null });
    await emulator.restart();
    const names = (await client.getCollections()).collections.map((c) => c.name);
    expect(names).toEqual(['kept']);
    await expect(client.count('kept', { exact: true })).resolves.toEqual({ count: 1 });
  });

  it('requires the configured API key, as Qdrant does with an api_key set', async () => {
    const { emulator } = await spawn({ QDRANT_EMULATOR_API_KEY: 'test-key' });
    const anonymous = await fetch(`${emulator.url}/collections`);
    expect(anonymous.status).toBe(401);
    const keyed = new QdrantClient({
      url: emulator.url,
      apiKey: 'test-key',
      checkCompatibility: false,
    });
    await expect(keyed.getCollections()).resolves.toEqual({ collections: [] });
    const probe = await fetch(`${emulator.url}/healthz`);
    expect(probe.status).toBe(200);
  });

  it('takes its port and storage from the environment and refuses a bad port', () => {
    const storage = fs.mkdtempSync(path.join(os.tmpdir(), 'quarry-qdrant-env-'));
    try {
      const bad = spawnSync(process.execPath, [emulatorEntryPoint()], {
        env: {
          ...process.env,
          QDRANT_EMULATOR_PORT: 'not-a-port',
          QDRANT_EMULATOR_STORAGE: storage,
        },
        encoding: 'utf8',
        timeout: 15_000,
      });
      expect(bad.status).toBe(2);
      expect(bad.stderr).toContain('QDRANT_EMULATOR_PORT');
    } finally {
      fs.rmSync(storage, { recursive: true, force: true });
    }
  });

  it('creates its storage layout and answers the readiness probe once it has announced itself', async () => {
    const { emulator } = await spawn();
    const res = await fetch(`${emulator.url}/readyz`);
    expect(res.status).toBe(200);
    expect(fs.existsSync(path.join(emulator.storage, 'collections'))).toBe(true);
  });

  it('starts from a full-storage snapshot with its collections and aliases', async () => {
    const { emulator, client } = await spawn();
    await client.createCollection('whole', { vectors: { size: 2, distance: 'Dot' } });
    await client.upsert('whole', { wait: true, points: [{ id: 1, vector: [1, 0] }] });
    await client.updateCollectionAliases({
      actions: [{ create_alias: { collection_name: 'whole', alias_name: 'live' } }],
    });
    const created = await fetch(`${emulator.url}/snapshots`, { method: 'POST' });
    const { result } = (await created.json()) as { result: { name: string } };
    const file = path.join(emulator.storage, 'snapshots', result.name);
    const copy = path.join(os.tmpdir(), `full-${process.pid}-${result.name}`);
    fs.copyFileSync(file, copy);
    const fresh = await spawn({ QDRANT_EMULATOR_STORAGE_SNAPSHOT: copy });
    await expect(fresh.client.count('live', { exact: true })).resolves.toEqual({ count: 1 });
    await expect(fresh.client.getAliases()).resolves.toEqual({
      aliases: [{ alias_name: 'live', collection_name: 'whole' }],
    });
    fs.rmSync(copy, { force: true });
  });
});
