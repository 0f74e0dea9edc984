import { ExpressAdapter } from '@bull-board/express';
import type { NextFunction, Request, Response } from 'express';

type ViewRoute = Parameters<ExpressAdapter['setEntryRoute']>[0];
type RouteMethod = (route: ViewRoute['route'], handler: Handler) => void;
type Handler = (req: Request, res: Response, next: NextFunction) => void;

/**
 * Bull Board's page links its web fonts from fonts.googleapis.com. The dashboard must
 * render with no request leaving the cluster (offline clusters, and an operator's browser
 * should not tell a third party who opens it), so the page is served without stylesheets
 * from other hosts; the UI falls back to the system's sans-serif and monospace fonts.
 */
export class OfflineExpressAdapter extends ExpressAdapter {
  override setEntryRoute(routeDef: ViewRoute): ExpressAdapter {
    const view: Handler = (_req, res, next) => {
      const { name, params } = routeDef.handler({
        basePath: this.basePath,
        uiConfig: this.uiConfig,
      });
      res.render(name, params, (err: Error | null, html?: string) =>
        err ? next(err) : res.type('html').send(withoutRemoteLinks(html ?? '')),
      );
    };
    const router = this.app as unknown as Record<string, RouteMethod>;
    router[routeDef.method](routeDef.route, view);
    return this;
  }
}

/** Drops every `<link>` whose href points at another host (a linear scan, no regex). */
function withoutRemoteLinks(html: string): string {
  let out = '';
  let pos = 0;
  for (;;) {
    const start = html.indexOf('<link', pos);
    const end = start < 0 ? -1 : html.indexOf('>', start);
    if (end < 0) return out + html.slice(pos);
    const tag = html.slice(start, end + 1);
    const remote = ['href="http://', 'href="https://', 'href="//'].some((h) => tag.includes(h));
    out += html.slice(pos, remote ? start : end + 1);
    pos = end + 1;
  }
}
