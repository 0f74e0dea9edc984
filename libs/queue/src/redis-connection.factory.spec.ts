import { redisOptionsFor } from './redis-connection.factory';

describe('redisOptionsFor', () => {
  it('reads host, credentials and database from one URL', () => {
    expect(redisOptionsFor('redis://app:s3cret@cache.internal:6380/2')).toMatchObject({
      host: 'cache.internal',
      port: 6380,
      username: 'app',
      password: 's3cret',
      db: 2,
      tls: undefined,
    });
  });

  it('turns TLS on for rediss:// and lets explicit credentials win', () => {
    const options = redisOptionsFor({
      url: 'rediss://:from-url@cache.internal',
      username: 'quarry',
      password: 'explicit',
    });
    expect(options).toMatchObject({ port: 6379, username: 'quarry', password: 'explicit' });
    expect(options.tls).toEqual({ ca: undefined });
  });

  it('asks the sentinels for the primary, over TLS when the URL says so', () => {
    const options = redisOptionsFor({
      url: 'rediss://:pw@ignored:6379/1',
      sentinels: [{ host: 's0', port: 26379 }],
      sentinelName: 'quarry',
      sentinelPassword: 'spw',
    });
    expect(options).toMatchObject({
      sentinels: [{ host: 's0', port: 26379 }],
      name: 'quarry',
      sentinelPassword: 'spw',
      password: 'pw',
      db: 1,
      enableTLSForSentinelMode: true,
    });
    expect(options.host).toBeUndefined();
    expect(options.failoverDetector).toBeUndefined();
  });

  it('reconnects when a demoted primary answers READONLY, and only then', () => {
    const { reconnectOnError } = redisOptionsFor('redis://localhost');
    expect(
      reconnectOnError?.(new Error("READONLY You can't write against a read only replica.")),
    ).toBe(2);
    expect(reconnectOnError?.(new Error('ERR unknown command'))).toBe(false);
  });
});
