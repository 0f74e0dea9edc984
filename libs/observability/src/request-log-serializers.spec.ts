import { requestLogSerializers } from './request-log-serializers';

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
