import { ConfigError, describeConfig, loadConfig } from './load-config';

const env = (vars: Record<string, string>): NodeJS.ProcessEnv => ({ ...vars });

function problemOf(vars: Record<string, string>): string {
  try {
    loadConfig({ app: 'api', env: env(vars) });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected the configuration to be refused');
}

describe('loadConfig', () => {
  it.each([
    [
      { DB_POOL_MAX: 'abc' },
      /^Invalid configuration: DB_POOL_MAX: DB_POOL_MAX must be an integer number \(got "abc"\)$/,
    ],
    [{ DB_POOL_MAX: '0' }, /DB_POOL_MAX: .*must not be less than 1.*\(got "0"\)/],
    [{ NODE_ENV: 'prod' }, /NODE_ENV must be one of development, test, production \(got "prod"\)/],
    [
      { DATABASE_URL: 'not a url' },
      /DATABASE_URL: DATABASE_URL must be a URL starting with postgres:\/\/ or postgresql:\/\//,
    ],
    [{ DATABASE_URL: 'mysql://u@h/db' }, /DATABASE_URL: .*postgres:\/\//],
    [{ REDIS_URL: 'http://x' }, /REDIS_URL: .*redis:\/\//],
    [{ PORT: '70000' }, /PORT: .*must not be greater than 65535/],
    [{ EMBEDDING_PROVIDER: 'magic' }, /EMBEDDING_PROVIDER: .*must be one of/],
    [{ DB_MIGRATIONS_RUN: 'maybe' }, /DB_MIGRATIONS_RUN: .*boolean/],
    [{ DB_PREPARED_STATEMENTS: 'sometimes' }, /DB_PREPARED_STATEMENTS: .*boolean/],
    [{ REDIS_SENTINELS: 'sentinel-0' }, /REDIS_SENTINELS: .*host:port/],
    [{ REDIS_SENTINELS: 's0:26379,s1:99999' }, /REDIS_SENTINELS: .*host:port/],
    [{ QDRANT_SHARD_NUMBER: '0' }, /QDRANT_SHARD_NUMBER: .*not be less than 1/],
    [{ QDRANT_HNSW_EF_CONSTRUCT: '2' }, /QDRANT_HNSW_EF_CONSTRUCT: .*not be less than 4/],
    [{ QDRANT_QUANTIZATION: 'pq' }, /QDRANT_QUANTIZATION: .*must be one of/],
    [{ QDRANT_WRITE_ORDERING: 'eventual' }, /QDRANT_WRITE_ORDERING: .*must be one of/],
  ])('refuses %j with a message naming the variable', (vars, expected) => {
    expect(problemOf(vars)).toMatch(expected);
  });

  it('puts the whole refusal on one line', () => {
    const message = problemOf({ DB_POOL_MAX: 'abc', PORT: 'x' });
    expect(message.split('\n')).toHaveLength(1);
    expect(message).toContain('DB_POOL_MAX');
    expect(message).toContain('PORT');
  });

  it('never prints a secret it refuses', () => {
    const message = problemOf({ DATABASE_URL: 'mysql://user:hunter2@db/x' });
    expect(message).not.toContain('hunter2');
  });

  it('checks values against each other', () => {
    expect(problemOf({ DB_POOL_MIN: '8', DB_POOL_MAX: '4' })).toMatch(
      /DB_POOL_MIN \(8\) must not exceed DB_POOL_MAX \(4\)/,
    );
    expect(problemOf({ CHUNK_SIZE: '100', CHUNK_OVERLAP: '100' })).toMatch(/CHUNK_OVERLAP/);
    expect(problemOf({ EMBEDDING_PROVIDER: 'openai' })).toMatch(/EMBEDDING_BASE_URL must be set/);
    expect(
      problemOf({ QDRANT_REPLICATION_FACTOR: '2', QDRANT_WRITE_CONSISTENCY_FACTOR: '3' }),
    ).toMatch(
      /QDRANT_WRITE_CONSISTENCY_FACTOR \(3\) must not exceed QDRANT_REPLICATION_FACTOR \(2\)/,
    );
    expect(problemOf({ REDIS_TLS_CA_FILE: '/etc/ca.pem' })).toMatch(
      /REDIS_URL must start with rediss/,
    );
    expect(problemOf({ EMBEDDING_PROVIDER: 'local' })).toMatch(/EMBEDDING_MODEL_PATH must be set/);
    expect(problemOf({ EMBEDDING_THREADS: '0' })).toMatch(
      /EMBEDDING_THREADS: .*not be less than 1/,
    );
    expect(problemOf({ EMBEDDING_POOLING: 'max' })).toMatch(/EMBEDDING_POOLING: .*must be one of/);
    expect(problemOf({ SEARCH_KEYWORD_WEIGHT: 'lots' })).toMatch(/SEARCH_KEYWORD_WEIGHT/);
  });

  it('reads Sentinel, Redis credentials, the pooler mode and the collection layout', () => {
    const config = loadConfig({
      app: 'worker',
      env: env({
        REDIS_SENTINELS: 'sentinel-0:26379, [::1]:26380',
        REDIS_SENTINEL_NAME: 'quarry',
        REDIS_PASSWORD: 'redis-secret',
        REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
        DB_PREPARED_STATEMENTS: 'false',
        QDRANT_SHARD_NUMBER: '6',
        QDRANT_REPLICATION_FACTOR: '2',
        QDRANT_QUANTIZATION: 'scalar',
      }),
    });
    expect(config.redis).toMatchObject({
      sentinels: [
        { host: 'sentinel-0', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      sentinelName: 'quarry',
      password: 'redis-secret',
    });
    expect(config.db.preparedStatements).toBe(false);
    expect(config.qdrant.collectionSettings).toEqual({
      shardNumber: 6,
      replicationFactor: 2,
      quantization: 'scalar',
    });
    expect(config.qdrant.writeOrdering).toBe('medium');
    const logged = JSON.stringify(describeConfig(config));
    expect(logged).not.toContain('redis-secret');
    expect(logged).not.toContain('sentinel-secret');
  });

  it('keeps the single-node defaults', () => {
    const config = loadConfig({ app: 'api', env: env({}) });
    expect(config.redis.sentinels).toBeUndefined();
    expect(config.db.preparedStatements).toBe(true);
    expect(Object.values(config.qdrant.collectionSettings).filter((v) => v !== undefined)).toEqual(
      [],
    );
  });

  it('reads the local embedder settings and names the model after its folder', () => {
    const config = loadConfig({
      app: 'worker',
      env: env({
        EMBEDDING_PROVIDER: 'local',
        EMBEDDING_MODEL_PATH: '/models/multilingual-e5-small/',
        EMBEDDING_THREADS: '2',
        EMBEDDING_QUERY_PREFIX: 'query: ',
        SEARCH_KEYWORD_WEIGHT: '1.25',
      }),
    });
    expect(config.embedding).toMatchObject({
      provider: 'local',
      model: 'multilingual-e5-small',
      modelPath: '/models/multilingual-e5-small/',
      threads: 2,
      queryPrefix: 'query: ',
      fusion: { keyword: 1.25, semantic: undefined },
    });
    const named = loadConfig({
      app: 'worker',
      env: env({
        EMBEDDING_PROVIDER: 'local',
        EMBEDDING_MODEL_PATH: '/m/x',
        EMBEDDING_MODEL: 'e5',
      }),
    });
    expect(named.embedding.model).toBe('e5');
    expect(loadConfig({ app: 'api', env: env({}) }).embedding).toMatchObject({
      model: 'hashing-v1',
      threads: 1,
    });
  });

  it('refuses the development key in production', () => {
    expect(
      problemOf({
        NODE_ENV: 'production',
        DATABASE_URL: 'postgres://db/quarry',
        REDIS_URL: 'redis://redis:6379',
        QDRANT_URL: 'http://qdrant:6333',
        QUARRY_DEV_API_KEY: 'dev-key-0123456789abcdef',
      }),
    ).toMatch(/QUARRY_DEV_API_KEY is for development only/);
  });

  it('requires production to name its own services', () => {
    const message = problemOf({ NODE_ENV: 'production' });
    expect(message).toMatch(/DATABASE_URL: .*\(not set\)/);
    expect(message).toMatch(/REDIS_URL: .*\(not set\)/);
    expect(message).toMatch(/QDRANT_URL: .*\(not set\)/);
  });

  describe('precedence: explicit options > environment > defaults by NODE_ENV', () => {
    it('uses the defaults of NODE_ENV when nothing else is given', () => {
      expect(loadConfig({ app: 'api', env: env({}) }).db.poolMax).toBe(10);
      const prod = loadConfig({
        app: 'api',
        env: env({
          NODE_ENV: 'production',
          DATABASE_URL: 'postgres://db/quarry',
          REDIS_URL: 'redis://redis:6379',
          QDRANT_URL: 'http://qdrant:6333',
        }),
      });
      expect(prod.db.poolMax).toBe(20);
      expect(prod.isProduction).toBe(true);
    });

    it('lets the environment override a default', () => {
      expect(loadConfig({ app: 'api', env: env({ DB_POOL_MAX: '7' }) }).db.poolMax).toBe(7);
    });

    it('lets an explicit option override the environment', () => {
      const config = loadConfig({
        app: 'api',
        env: env({ DB_POOL_MAX: '7', DB_SLOW_QUERY_MS: '250' }),
        overrides: { DB_POOL_MAX: 3 },
      });
      expect(config.db.poolMax).toBe(3);
      expect(config.db.slowQueryMs).toBe(250);
    });

    it('validates explicit options like everything else', () => {
      expect(() => loadConfig({ app: 'api', env: env({}), overrides: { DB_POOL_MAX: 0 } })).toThrow(
        /DB_POOL_MAX/,
      );
    });

    it('treats an empty variable as unset', () => {
      expect(loadConfig({ app: 'api', env: env({ DB_POOL_MAX: '' }) }).db.poolMax).toBe(10);
    });
  });

  it('names connections after the app so pg_stat_activity can tell them apart', () => {
    expect(loadConfig({ app: 'worker', env: env({}) }).db.applicationName).toBe('quarry-worker');
  });

  it('masks secrets in the loggable view', () => {
    const config = loadConfig({
      app: 'api',
      env: env({
        DATABASE_URL: 'postgres://quarry:s3cret@db:5432/quarry',
        QDRANT_API_KEY: 'qdrant-key-value',
        REDIS_URL: 'redis://:redispass@redis:6379',
      }),
    });
    const logged = JSON.stringify(describeConfig(config));
    expect(logged).not.toContain('s3cret');
    expect(logged).not.toContain('qdrant-key-value');
    expect(logged).not.toContain('redispass');
    expect(logged).toContain('db:5432/quarry');
  });

  it('masks credentials in URL query strings and in EMBEDDING_BASE_URL', () => {
    const config = loadConfig({
      app: 'api',
      env: env({
        DATABASE_URL: 'postgres://db:5432/quarry?user=quarry&password=querypass',
        QDRANT_URL: 'https://qdrant.example:6333/?api_key=qdrantquery',
        EMBEDDING_PROVIDER: 'openai',
        EMBEDDING_BASE_URL: 'https://embeduser:embedpass@embed.example/v1?token=embedtoken',
      }),
    });
    const logged = JSON.stringify(describeConfig(config));
    for (const secret of ['querypass', 'qdrantquery', 'embedpass', 'embedtoken'])
      expect(logged).not.toContain(secret);
    expect(logged).toContain('embed.example');
  });

  it('refuses the published dashboard passwords in production', () => {
    expect(() =>
      loadConfig({
        app: 'api',
        env: {
          NODE_ENV: 'production',
          DATABASE_URL: 'postgres://db/quarry',
          REDIS_URL: 'redis://redis:6379',
          QDRANT_URL: 'http://qdrant:6333',
          BULL_BOARD_USER: 'admin',
          BULL_BOARD_PASSWORD: 'change-me',
        },
      }),
    ).toThrow(/BULL_BOARD_PASSWORD is a published default/);
  });
});
