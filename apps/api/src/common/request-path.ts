import type { Request } from 'express';

/** The request's path without its query string, as the client sent it. */
export function requestPath(req: Request): string {
  const url = req.originalUrl;
  const mark = url.indexOf('?');
  return mark < 0 ? url : url.slice(0, mark);
}

/** The routes that take a whole document in their body. */
export function isUploadRoute(req: Request): boolean {
  if (req.method !== 'POST') return false;
  const path = requestPath(req);
  return path === '/v1/documents' || path === '/v1/documents/text';
}

export function isTextUploadRoute(req: Request): boolean {
  return req.method === 'POST' && requestPath(req) === '/v1/documents/text';
}

export function isSearchRoute(req: Request): boolean {
  const path = requestPath(req);
  if (req.method === 'POST') return path === '/v1/search';
  return req.method === 'GET' && path.startsWith('/v1/documents/') && path.endsWith('/similar');
}
