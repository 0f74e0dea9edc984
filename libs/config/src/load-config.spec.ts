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
    expect(problemOf({ EMBEDDING_PROVIDER: 'local' })).toMatch(/EMBEDDING_MODEL_PATH must be set/);
    expect(problemOf({ EMBEDDING_THREADS: '0' })).toMatch(
      /EMBEDDING_THREADS: .*not be less than 1/,
    );
    expect(problemOf({ EMBEDDING_POOLING: 'max' })).toMatch(/EMBEDDING_POOLING: .*must be one of/);
    expect(problemOf({ SEARCH_KEYWORD_WEIGHT: 'lots' })).toMatch(/SEARCH_KEYWORD_WEIGHT/);
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
});
