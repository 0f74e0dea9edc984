import { readCredentials } from './bearer-credentials';

describe('readCredentials', () => {
  it('reads a bearer token whatever the scheme case', () => {
    expect(readCredentials({ authorization: 'Bearer qk_abc' })).toEqual({
      scheme: 'bearer',
      token: 'qk_abc',
    });
    expect(readCredentials({ authorization: 'bearer   qk_abc ' })).toEqual({
      scheme: 'bearer',
      token: 'qk_abc',
    });
  });

  it('reads basic credentials, keeping colons in the password', () => {
    const value = Buffer.from('ops:pa:ss wörd').toString('base64');
    expect(readCredentials({ authorization: `Basic ${value}` })).toEqual({
      scheme: 'basic',
      user: 'ops',
      password: 'pa:ss wörd',
    });
  });

  it('treats anything else as no credentials', () => {
    for (const authorization of [undefined, '', 'Bearer', 'Bearer ', 'Token abc', 'qk_abc']) {
      expect(readCredentials({ authorization })).toEqual({ scheme: 'none' });
    }
    const noColon = Buffer.from('justauser').toString('base64');
    expect(readCredentials({ authorization: `Basic ${noColon}` })).toEqual({ scheme: 'none' });
  });
});
