/**
 * `attachment; filename="<ascii>"; filename*=UTF-8''<rfc5987>`: the plain form for old
 * clients (non-ASCII, quotes and backslashes replaced), the encoded form for the rest.
 */
export function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_') || 'download';
  const encoded = encodeURIComponent(filename).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
