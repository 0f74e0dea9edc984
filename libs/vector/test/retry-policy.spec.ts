import { QdrantClientTimeoutError } from '@qdrant/js-client-rest';
import { backoffDelayMs, classifyFailure } from '@quarry/vector';

class FakeApiError extends Error {
  readonly headers = new Headers();
  constructor(
    readonly status: number,
    readonly data: unknown,
    readonly statusText = '',
  ) {
    super(statusText);
  }
}

describe('classifyFailure', () => {
  it('treats 5xx, 408 and 429 as transient', () => {
    for (const status of [500, 502, 503, 504, 408, 429]) {
      expect(classifyFailure(new FakeApiError(status, {}))).toMatchObject({
        kind: 'transient',
        statusCode: status,
      });
    }
  });

  it('treats other 4xx as rejected, with Qdrant’s message', () => {
    const error = new FakeApiError(422, {
      status: { error: 'Validation error in JSON body: [x]' },
    });
    expect(classifyFailure(error)).toEqual({
      kind: 'rejected',
      statusCode: 422,
      message: 'Validation error in JSON body: [x]',
    });
  });

  it('uses a text body when the answer is not Qdrant’s envelope', () => {
    expect(classifyFailure(new FakeApiError(403, 'forbidden by proxy'))).toMatchObject({
      kind: 'rejected',
      message: 'forbidden by proxy',
    });
  });

  it('treats fetch failures and socket error codes as transient', () => {
    const refused = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
    });
    expect(classifyFailure(refused)).toEqual({ kind: 'transient', reason: 'ECONNREFUSED' });
    expect(classifyFailure(new TypeError('fetch failed'))).toMatchObject({ kind: 'transient' });
    expect(classifyFailure(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toMatchObject({
      kind: 'transient',
    });
    expect(classifyFailure(new QdrantClientTimeoutError('aborted'))).toMatchObject({
      kind: 'transient',
    });
  });

  it('leaves programming errors alone', () => {
    expect(classifyFailure(new RangeError('bad'))).toEqual({ kind: 'unknown' });
    expect(classifyFailure(new TypeError('x is not a function'))).toEqual({ kind: 'unknown' });
  });
});

describe('backoffDelayMs', () => {
  const options = { attempts: 3, baseDelayMs: 100, maxDelayMs: 1_000 };

  it('doubles per attempt between half and all of the step', () => {
    expect(backoffDelayMs(1, options, () => 0)).toBe(50);
    expect(backoffDelayMs(1, options, () => 1)).toBe(100);
    expect(backoffDelayMs(2, options, () => 0)).toBe(100);
    expect(backoffDelayMs(3, options, () => 1)).toBe(400);
  });

  it('never exceeds the cap', () => {
    expect(backoffDelayMs(10, options, () => 1)).toBe(1_000);
  });
});
