import { serializeErrorForLog } from './error-log-serializer';
import { loggablePath, requestLogSerializers } from './request-log-serializers';

describe('requestLogSerializers', () => {
  it('keeps method, path, caller and status, and no header at all', () => {
    const req = {
      id: 'r-1',
      method: 'POST',
      url: '/v1/search',
      remoteAddress: '127.0.0.1',
      remotePort: 5000,
      headers: { authorization: 'Bearer secret', cookie: 'session=1' },
    };
    const line = JSON.stringify({
      req: requestLogSerializers.req(req),
      res: requestLogSerializers.res({ statusCode: 200, headers: { 'set-cookie': 'x' } } as never),
    });
    expect(JSON.parse(line)).toEqual({
      req: { id: 'r-1', method: 'POST', url: '/v1/search', remoteAddress: '127.0.0.1' },
      res: { statusCode: 200 },
    });
    expect(line).not.toContain('secret');
    expect(line).not.toContain('session');
  });
});

describe('loggablePath', () => {
  it('keeps the path and the parameter names, never their values', () => {
    expect(loggablePath('/v1/documents?cursor=abc&limit=5&flag')).toBe(
      '/v1/documents?cursor=…&limit=…&flag',
    );
    expect(loggablePath('/health/live')).toBe('/health/live');
  });
});

describe('serializeErrorForLog', () => {
  it('copies no property a library hung on the error', () => {
    const err = Object.assign(new Error('insert failed'), {
      parameters: ['MARKER-PARAM', Buffer.from('MARKER-FILE')],
      body: 'MARKER-BODY',
      driverError: { code: '22P05', detail: 'MARKER-DETAIL' },
    });
    const line = JSON.stringify(serializeErrorForLog(err));
    expect(line).not.toContain('MARKER');
    expect(line).toContain('insert failed');
    expect(line).toContain('22P05');
  });

  it("reads pino's own serialization of an error the same way", () => {
    const serialized = {
      type: 'QueryFailedError',
      message: 'violates check constraint "x"',
      stack: 'QueryFailedError: violates check constraint "x"\n    at somewhere',
      query: 'INSERT …',
      parameters: ['MARKER-PARAM'],
      driverError: { code: '23514', detail: 'Failing row contains (MARKER-ROW)' },
    };
    const line = JSON.stringify(serializeErrorForLog(serialized));
    expect(line).not.toContain('MARKER');
    expect(JSON.parse(line)).toMatchObject({ type: 'QueryFailedError', code: '23514' });
  });

  it('drops quoted text from PostgreSQL data errors, which quote the refused value', () => {
    const err = Object.assign(new Error('invalid input syntax for type integer: "MARKER"'), {
      code: '22P02',
    });
    const logged = serializeErrorForLog(err) as { message: string; stack: string };
    expect(logged.message).toBe('invalid input syntax for type integer: "…"');
    expect(logged.stack).not.toContain('MARKER');
  });
});
