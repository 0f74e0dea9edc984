import type { IncomingHttpHeaders } from 'node:http';

export type Credentials =
  | { scheme: 'bearer'; token: string }
  | { scheme: 'basic'; user: string; password: string }
  | { scheme: 'none' };

/** Reads `Authorization: Bearer <key>` or `Basic <base64(user:password)>`. */
export function readCredentials(headers: IncomingHttpHeaders): Credentials {
  const header = headers.authorization?.trim() ?? '';
  const space = header.indexOf(' ');
  if (space < 0) return { scheme: 'none' };
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === 'bearer' && value.length > 0) return { scheme: 'bearer', token: value };
  if (scheme === 'basic' && value.length > 0) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { scheme: 'none' };
    return { scheme: 'basic', user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return { scheme: 'none' };
}
