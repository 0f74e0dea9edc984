import { ContractProxy } from './contract-proxy';

/** The contract checker itself must catch divergences, or every e2e test passes vacuously. */
describe('ContractProxy.check', () => {
  const proxy = new ContractProxy('http://127.0.0.1:1');
  const json = (value: unknown) => Buffer.from(JSON.stringify(value));
  const check = (
    method: string,
    url: string,
    status: number,
    body: unknown,
    request: unknown = undefined,
  ) =>
    proxy.check(
      method,
      url,
      request === undefined ? null : json(request),
      'application/json',
      status,
      'application/json',
      json(body),
    );

  it('accepts a conforming exchange', () => {
    expect(
      check(
        'POST',
        '/collections/c/points/count',
        200,
        { result: { count: 3 }, status: 'ok', time: 0.001 },
        {},
      ),
    ).toEqual([]);
  });

  it('flags a missing required field, a wrong type and an undeclared property', () => {
    expect(
      check('POST', '/collections/c/points/count', 200, { result: {}, status: 'ok', time: 0 }),
    ).toHaveLength(1);
    expect(
      check('POST', '/collections/c/points/count', 200, {
        result: { count: 'x' },
        status: 'ok',
        time: 0,
      }),
    ).toHaveLength(1);
    expect(
      check('POST', '/collections/c/points/count', 200, {
        result: { count: 1, extra: true },
        status: 'ok',
        time: 0,
      }),
    ).toHaveLength(1);
  });

  it('flags an invalid request body and an unknown operation', () => {
    expect(
      check(
        'POST',
        '/collections/c/points/count',
        200,
        { result: { count: 1 }, status: 'ok', time: 0 },
        { exact: 'yes' },
      ),
    ).toHaveLength(1);
    expect(check('POST', '/collections/c/points/teleport', 200, {})).toHaveLength(1);
  });

  it('checks error envelopes and 1.18 operations', () => {
    expect(
      check('GET', '/collections/c', 404, { status: { error: 'Not found: x' }, time: 0 }),
    ).toEqual([]);
    expect(check('GET', '/collections/c', 404, { status: 'error', time: 0 })).not.toEqual([]);
    expect(
      check(
        'POST',
        '/collections/c/points/search',
        200,
        { result: [{ id: 1, version: 0, score: 0.5 }], status: 'ok', time: 0 },
        { vector: [1, 2], limit: 1 },
      ),
    ).toEqual([]);
  });
});
