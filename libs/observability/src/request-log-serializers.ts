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
 * The request and response as the request log writes them: method, path, caller address
 * and status. Headers are left out, so credentials never reach a log line and no request
 * pays for serialising and masking them.
 */
export const requestLogSerializers = {
  req: (req: SerializedRequest) => ({
    id: req.id,
    method: req.method,
    url: req.url,
    remoteAddress: req.remoteAddress,
  }),
  res: (res: SerializedResponse) => ({ statusCode: res.statusCode }),
};
