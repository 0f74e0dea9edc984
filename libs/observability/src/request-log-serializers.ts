import { serializeErrorForLog } from './error-log-serializer';

/** What pino-http's standard serializers hand on, of which a request line keeps a little. */
interface SerializedRequest {
  id?: unknown;
  method?: string;
  url?: string;
  remoteAddress?: string;
}

interface SerializedResponse {
  statusCode?: number;
}

/**
 * A request target as a log line may show it: the path, and the names of the query
 * parameters without their values (a search's words, a cursor).
 */
export function loggablePath(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const mark = url.indexOf('?');
  if (mark < 0) return url;
  const names = url
    .slice(mark + 1)
    .split('&')
    .filter((pair) => pair.length > 0)
    .map((pair) => {
      const equals = pair.indexOf('=');
      return equals < 0 ? pair : `${pair.slice(0, equals)}=…`;
    });
  return `${url.slice(0, mark)}?${names.join('&')}`;
}

/**
 * The request and response as the request log writes them: method, path, caller address
 * and status. Headers and query values are left out, so credentials and user data never
 * reach a log line and no request pays for serialising and masking them.
 */
export const requestLogSerializers = {
  req: (req: SerializedRequest) => ({
    id: req.id,
    method: req.method,
    url: loggablePath(req.url),
    remoteAddress: req.remoteAddress,
  }),
  res: (res: SerializedResponse) => ({ statusCode: res.statusCode }),
  err: serializeErrorForLog,
};
