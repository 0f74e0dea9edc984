import {
  classifyDbError,
  ConnectionLostError,
  DbEvents,
  isPoolExhausted,
  isTransactionTimeout,
  PoolExhaustedError,
  TransactionTimeoutError,
  truncateStatement,
} from '@quarry/db';

describe('typed database errors', () => {
  it('derives Retry-After from the acquire timeout, at least one second', () => {
    expect(new PoolExhaustedError('primary', 300).retryAfterSeconds).toBe(1);
    expect(new PoolExhaustedError('primary', 2_500).retryAfterSeconds).toBe(3);
    expect(new PoolExhaustedError('replica', 500, undefined, 7).retryAfterSeconds).toBe(7);
  });

  it('keeps kind, name and cause, and classifies its own instances', () => {
    const cause = Object.assign(new Error('Connection terminated unexpectedly'), {});
    const lost = new ConnectionLostError(cause, 'read');
    expect(lost.name).toBe('ConnectionLostError');
    expect(lost.cause).toBe(cause);
    expect(lost.message).toBe(
      'database connection lost during read: Connection terminated unexpectedly',
    );
    expect(classifyDbError(lost)).toEqual({
      kind: 'connection-lost',
      code: undefined,
      retryable: true,
    });

    const timeout = new TransactionTimeoutError(250);
    expect(isTransactionTimeout(timeout)).toBe(true);
    expect(isPoolExhausted(timeout)).toBe(false);
    expect(classifyDbError(timeout).kind).toBe('transaction-timeout');
  });

  it('treats non-errors as other', () => {
    expect(classifyDbError('boom')).toEqual({ kind: 'other', code: undefined, retryable: false });
    expect(classifyDbError(undefined).kind).toBe('other');
  });
});

describe('truncateStatement', () => {
  it('flattens whitespace and cuts long statements, saying how long they were', () => {
    expect(truncateStatement('SELECT  1\n  FROM   t')).toBe('SELECT 1 FROM t');
    const long = `SELECT ${'x, '.repeat(400)}1`;
    const cut = truncateStatement(long, 50);
    expect(cut.startsWith('SELECT x, x,')).toBe(true);
    expect(cut).toMatch(/… \(\d+ chars\)$/);
    expect(cut.length).toBeLessThan(70);
  });
});

describe('DbEvents', () => {
  it('delivers typed events to every listener even when one throws', () => {
    const events = new DbEvents();
    const seen: number[] = [];
    events.on('commit', () => {
      throw new Error('listener bug');
    });
    events.on('commit', (e) => seen.push(e.durationMs));
    events.once('commit', (e) => seen.push(e.durationMs * 10));
    expect(() => events.emit('commit', { durationMs: 5 })).not.toThrow();
    events.emit('commit', { durationMs: 6 });
    expect(seen).toEqual([5, 50, 6]);
    expect(events.emit('rollback', { durationMs: 1, reason: 'error', error: 'x' })).toBe(false);
  });
});
