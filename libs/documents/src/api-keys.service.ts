import { Injectable, Logger } from '@nestjs/common';
import { QuarryConfig } from '@quarry/config';
import { ApiKey, ApiKeyRole, DbService } from '@quarry/db';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { badInput, notFound } from './domain-errors';

export interface Principal {
  ownerId: string;
  role: ApiKeyRole;
  keyId: string;
}

export interface CreatedApiKey {
  id: string;
  ownerId: string;
  role: ApiKeyRole;
  name: string;
  /** shown once; only its hash is stored */
  key: string;
}

const KEY_PREFIX = 'qk_';
/** The owner of QUARRY_DEV_API_KEY; development only. */
export const DEV_OWNER_ID = 'dev';

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Verified keys kept per process; beyond this the oldest entries make room. */
const MAX_CACHED_KEYS = 10_000;

interface CachedKey {
  principal: Principal;
  expiresAt: number;
}

/**
 * API keys: created and revoked by operators, verified on every request.
 *
 * A key found valid is trusted for `auth.keyCacheTtlMs` (API_KEY_CACHE_TTL_MS, 5 s by
 * default) without asking PostgreSQL again, so a search costs no extra round trip for
 * its key. Revocation therefore bites at once in the process that revoked, and within
 * that time everywhere else (other api replicas, a revocation by the cli). Only valid
 * keys are kept: an unknown key is looked up every time, so a key created a moment ago
 * works at once and guessing keys fills no memory.
 */
@Injectable()
export class ApiKeysService {
  private readonly logger = new Logger('ApiKeys');
  /** last_used_at is written at most once a minute per key, not on every request */
  private readonly touched = new Map<string, number>();
  /** by key hash; Map order is insertion order, so the first entry is the oldest */
  private readonly verified = new Map<string, CachedKey>();
  /** bumped by every revocation here, so a lookup that raced one is not cached */
  private revocations = 0;

  constructor(
    private readonly db: DbService,
    private readonly config: QuarryConfig,
  ) {}

  async create(input: {
    ownerId: string;
    role?: ApiKeyRole;
    name?: string;
  }): Promise<CreatedApiKey> {
    const ownerId = input.ownerId?.trim();
    if (!ownerId || ownerId.length > 200) throw badInput('owner id must be 1–200 characters');
    const role = input.role ?? ApiKeyRole.User;
    if (role !== ApiKeyRole.User && role !== ApiKeyRole.Admin)
      throw badInput('role must be user or admin');
    const key = `${KEY_PREFIX}${randomBytes(24).toString('base64url')}`;
    const name = input.name?.trim() || `${role} key`;
    const saved = await this.db
      .repo(ApiKey)
      .save(this.db.repo(ApiKey).create({ ownerId, role, name, keyHash: hashApiKey(key) }));
    return { id: saved.id, ownerId, role, name, key };
  }

  async list(ownerId?: string): Promise<ApiKey[]> {
    return this.db.read((m) =>
      m.getRepository(ApiKey).find({
        where: ownerId ? { ownerId } : {},
        order: { createdAt: 'ASC' },
      }),
    );
  }

  async revoke(id: string): Promise<ApiKey> {
    const repo = this.db.repo(ApiKey);
    const key = await repo.findOne({ where: { id } });
    if (!key) throw notFound('API key', id);
    if (!key.revokedAt) {
      key.revokedAt = new Date();
      await repo.save(key);
    }
    this.revocations += 1;
    this.forget(key.id);
    return key;
  }

  /** The principal for a presented key, or undefined when it is unknown or revoked. */
  /** True when this key was verified within the cache's lifetime: checking it costs no lookup. */
  isCached(presented: string): boolean {
    const cached = this.verified.get(hashApiKey(presented));
    return !!cached && cached.expiresAt > Date.now();
  }

  async verify(presented: string): Promise<Principal | undefined> {
    const dev = this.config.auth.devApiKey;
    if (dev && !this.config.isProduction && safeEqual(presented, dev)) {
      return { ownerId: DEV_OWNER_ID, role: ApiKeyRole.Admin, keyId: 'dev' };
    }
    if (!presented.startsWith(KEY_PREFIX)) return undefined;
    const hash = hashApiKey(presented);
    const ttl = this.config.auth.keyCacheTtlMs;
    const cached = this.verified.get(hash);
    if (cached && cached.expiresAt > Date.now()) {
      this.touch(cached.principal.keyId);
      return cached.principal;
    }
    // One indexed lookup in plain SQL, revoked keys filtered out there.
    const revocationsBefore = this.revocations;
    const [key] = await this.db.read(
      (m) =>
        m.query(
          `SELECT id, owner_id, role FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`,
          [hash],
        ) as Promise<{ id: string; owner_id: string; role: ApiKeyRole }[]>,
    );
    this.verified.delete(hash);
    if (!key) return undefined;
    const principal: Principal = Object.freeze({
      ownerId: key.owner_id,
      role: key.role,
      keyId: key.id,
    });
    if (ttl > 0 && revocationsBefore === this.revocations) {
      if (this.verified.size >= MAX_CACHED_KEYS) {
        this.verified.delete(this.verified.keys().next().value as string);
      }
      this.verified.set(hash, { principal, expiresAt: Date.now() + ttl });
    }
    this.touch(key.id);
    return principal;
  }

  /** Drops a key from this process's cache of verified keys. */
  private forget(keyId: string): void {
    for (const [hash, entry] of this.verified) {
      if (entry.principal.keyId === keyId) this.verified.delete(hash);
    }
  }

  private touch(id: string): void {
    const now = Date.now();
    if ((this.touched.get(id) ?? 0) > now - 60_000) return;
    this.touched.set(id, now);
    this.db
      .manager()
      .query(`UPDATE api_keys SET last_used_at = now() WHERE id = $1`, [id])
      .catch((err: unknown) => this.logger.debug(`last_used_at not updated: ${String(err)}`));
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
