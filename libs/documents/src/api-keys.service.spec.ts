import type { QuarryConfig } from '@quarry/config';
import type { DbService } from '@quarry/db';
import { ApiKeysService, hashApiKey } from './api-keys.service';

interface Row {
  id: string;
  owner_id: string;
  role: 'user' | 'admin';
  key_hash: string;
  revoked_at: Date | null;
}

/** api_keys in memory: the lookup statement, the repository calls revoke makes. */
function fakeDb(rows: Row[], { answerAfter }: { answerAfter?: Promise<unknown> } = {}) {
  const lookups: string[] = [];
  const manager = {
    query: jest.fn(async (sql: string, [param]: string[]) => {
      if (!sql.startsWith('SELECT')) return [];
      lookups.push(param);
      const found = rows
        .filter((r) => r.key_hash === param && r.revoked_at === null)
        .map(({ id, owner_id, role }) => ({ id, owner_id, role }));
      await answerAfter;
      return found;
    }),
  };
  const repo = {
    findOne: jest.fn(async ({ where: { id } }: { where: { id: string } }) => {
      const row = rows.find((r) => r.id === id);
      return row ? { id: row.id, revokedAt: row.revoked_at } : null;
    }),
    save: jest.fn(async (key: { id: string; revokedAt: Date | null }) => {
      const row = rows.find((r) => r.id === key.id) as Row;
      row.revoked_at = key.revokedAt;
      return key;
    }),
  };
  const db = {
    read: <T>(fn: (m: typeof manager) => Promise<T>) => fn(manager),
    manager: () => manager,
    repo: () => repo,
  };
  return { db: db as unknown as DbService, lookups };
}

const config = (keyCacheTtlMs: number) =>
  ({ isProduction: true, auth: { keyCacheTtlMs } }) as unknown as QuarryConfig;

const KEY = 'qk_alice-laptop';
const row = (overrides: Partial<Row> = {}): Row => ({
  id: 'k1',
  owner_id: 'alice',
  role: 'user',
  key_hash: hashApiKey(KEY),
  revoked_at: null,
  ...overrides,
});

describe('ApiKeysService.verify with its cache of verified keys', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: new Date('2026-12-01T00:00:00Z') });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('asks PostgreSQL once per key within the TTL', async () => {
    const { db, lookups } = fakeDb([row()]);
    const keys = new ApiKeysService(db, config(5_000));
    for (let i = 0; i < 3; i++) {
      await expect(keys.verify(KEY)).resolves.toEqual({
        ownerId: 'alice',
        role: 'user',
        keyId: 'k1',
      });
    }
    expect(lookups).toHaveLength(1);
  });

  it('stops a key revoked elsewhere once the TTL has passed', async () => {
    const rows = [row()];
    const { db, lookups } = fakeDb(rows);
    const keys = new ApiKeysService(db, config(5_000));
    await expect(keys.verify(KEY)).resolves.toBeDefined();
    rows[0].revoked_at = new Date(); // by the cli, or another api replica
    jest.advanceTimersByTime(5_001);
    await expect(keys.verify(KEY)).resolves.toBeUndefined();
    await expect(keys.verify(KEY)).resolves.toBeUndefined();
    expect(lookups).toHaveLength(3);
  });

  it('stops a key revoked by this process at once', async () => {
    const { db } = fakeDb([row()]);
    const keys = new ApiKeysService(db, config(5_000));
    await expect(keys.verify(KEY)).resolves.toBeDefined();
    await keys.revoke('k1');
    await expect(keys.verify(KEY)).resolves.toBeUndefined();
  });

  it('does not cache a lookup that was in flight while this process revoked the key', async () => {
    let answer = () => {};
    const answered = new Promise<void>((resolve) => (answer = resolve));
    const { db } = fakeDb([row()], { answerAfter: answered });
    const keys = new ApiKeysService(db, config(5_000));
    // the lookup reads the row before the revocation commits, and answers after it
    const inFlight = keys.verify(KEY);
    await keys.revoke('k1');
    answer();
    await expect(inFlight).resolves.toBeDefined();
    await expect(keys.verify(KEY)).resolves.toBeUndefined();
  });

  it('never caches an unknown key: created a moment later, it works at once', async () => {
    const rows: Row[] = [];
    const { db, lookups } = fakeDb(rows);
    const keys = new ApiKeysService(db, config(5_000));
    await expect(keys.verify(KEY)).resolves.toBeUndefined();
    await expect(keys.verify(KEY)).resolves.toBeUndefined();
    expect(lookups).toHaveLength(2);
    rows.push(row());
    await expect(keys.verify(KEY)).resolves.toMatchObject({ ownerId: 'alice' });
  });

  it('checks every request when the TTL is 0', async () => {
    const { db, lookups } = fakeDb([row()]);
    const keys = new ApiKeysService(db, config(0));
    await keys.verify(KEY);
    await keys.verify(KEY);
    expect(lookups).toHaveLength(2);
  });

  it('does not let one key answer for another', async () => {
    const other = 'qk_bob-phone';
    const { db } = fakeDb([row(), row({ id: 'k2', owner_id: 'bob', key_hash: hashApiKey(other) })]);
    const keys = new ApiKeysService(db, config(5_000));
    await expect(keys.verify(KEY)).resolves.toMatchObject({ ownerId: 'alice' });
    await expect(keys.verify(other)).resolves.toMatchObject({ ownerId: 'bob' });
    await expect(keys.verify(`${KEY}x`)).resolves.toBeUndefined();
  });
});
