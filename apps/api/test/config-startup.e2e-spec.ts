import { compiled, NodeProcess } from './support/node-process';

/** Well beyond a config check (milliseconds) and short of a server that started and stays up. */
const EXIT_WITHIN_MS = 15_000;

const cases: { name: string; value: string; expects: RegExp }[] = [
  { name: 'DB_POOL_MAX', value: 'abc', expects: /integer/ },
  { name: 'DB_POOL_MAX', value: '0', expects: /not be less than 1/ },
  { name: 'NODE_ENV', value: 'prod', expects: /one of development, test, production/ },
  { name: 'DATABASE_URL', value: 'not-a-url', expects: /URL starting with postgres:\/\// },
];

/**
 * The compiled api with one bad setting: it must refuse to start at once, with exit code
 * 78 (EX_CONFIG) and a single stderr line that tells the operator what to fix.
 */
describe('api: a bad configuration stops start-up with one line naming the variable', () => {
  const started: NodeProcess[] = [];

  afterAll(async () => {
    await Promise.all(started.map((p) => p.stop()));
  });

  it.each(cases)('$name=$value', async ({ name, value, expects }) => {
    // Everything else valid, pointing nowhere that matters: nothing may be reached anyway.
    const api = new NodeProcess(compiled('apps/api/src/main.js'), [], {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      PORT: '1',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
      REDIS_URL: 'redis://127.0.0.1:1',
      [name]: value,
    });
    started.push(api);

    const exit = await api.waitForExit(EXIT_WITHIN_MS);
    expect(exit).not.toBeNull();
    // Nothing started (no log line on stdout); the output sits beside the code so that a
    // failure shows what the process did instead.
    expect({ code: exit?.code, stdout: api.stdout, stderr: api.stderr }).toEqual({
      code: 78,
      stdout: '',
      stderr: expect.any(String),
    });

    const lines = api.stderr.split('\n').filter((line) => line.trim() !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(name);
    expect(lines[0]).toMatch(expects);
    expect(lines[0]).toContain(JSON.stringify(name === 'DATABASE_URL' ? 'no***' : value));
  });

  // The cases above prove the one value is what stops it, not the rest of the settings.
  it('gets past the configuration with the same settings once the value is fixed', async () => {
    const api = new NodeProcess(compiled('apps/api/src/main.js'), [], {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      PORT: '1',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
      REDIS_URL: 'redis://127.0.0.1:1',
      DB_POOL_MAX: '5',
    });
    started.push(api);
    // The configuration is accepted; start-up then reaches for the (unreachable) database.
    await api.waitForExit(EXIT_WITHIN_MS * 2);
    expect(api.stderr).not.toMatch(/Invalid configuration/);
    expect(`${api.stderr}${api.stdout}`).toMatch(/ECONNREFUSED 127\.0\.0\.1:1\b/);
  });
});
