import { HttpStatus } from '@nestjs/common';
import { QuarryConfig } from '@quarry/config';
import { ApiKeysService } from '@quarry/documents';
import type { NextFunction, Request, Response } from 'express';
import { timingSafeEqual } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { readCredentials } from '../auth/bearer-credentials';
import { BEARER_CHALLENGE } from '../auth/api-key.guard';
import { PROBLEM_JSON } from '../common/problem-details.filter';
import { AbuseLimitsService } from '../limits/abuse-limits.service';

export const BASIC_CHALLENGE = 'Basic realm="Quarry admin", charset="UTF-8"';

type Middleware = (req: Request, res: Response, next: NextFunction) => void;

/**
 * Guards everything under the dashboard's route (page, static files, its JSON api):
 * an admin API key as Bearer, or HTTP basic auth with BULL_BOARD_USER/PASSWORD.
 * Plain Express middleware, because the dashboard is not made of Nest routes and the
 * global guard never sees it.
 */
export function adminAuthMiddleware(
  apiKeys: ApiKeysService,
  config: QuarryConfig,
  limits: AbuseLimitsService,
): Middleware {
  const user = config.auth.bullBoardUser;
  const password = config.auth.bullBoardPassword;
  return (req, res, next) => {
    const credentials = readCredentials(req.headers);
    const address = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    const verify = async (): Promise<'ok' | 'unauthorized' | 'forbidden'> => {
      if (credentials.scheme === 'bearer') {
        const principal = await apiKeys.verify(credentials.token);
        if (!principal) return 'unauthorized';
        return principal.role === 'admin' ? 'ok' : 'forbidden';
      }
      if (credentials.scheme === 'basic' && user && password) {
        const matches =
          safeEqual(credentials.user, user) && safeEqual(credentials.password, password);
        return matches ? 'ok' : 'unauthorized';
      }
      return 'unauthorized';
    };
    // Guessed dashboard passwords and keys count against the same per-address budget as the api's.
    const check = async (): Promise<'ok' | 'unauthorized' | 'forbidden'> => {
      if (credentials.scheme === 'none') return 'unauthorized';
      await limits.assertAuthAllowed(address);
      const outcome = await verify();
      if (outcome === 'unauthorized') await limits.recordAuthFailure(address);
      return outcome;
    };
    check().then(
      (outcome) => {
        if (outcome === 'ok') return next();
        if (outcome === 'forbidden') {
          return problem(req, res, HttpStatus.FORBIDDEN, 'The queue dashboard needs an admin key.');
        }
        res.setHeader('WWW-Authenticate', [BASIC_CHALLENGE, BEARER_CHALLENGE]);
        problem(
          req,
          res,
          HttpStatus.UNAUTHORIZED,
          'The queue dashboard needs an admin API key (Bearer) or the dashboard user and password (basic auth).',
        );
      },
      (err: unknown) => next(err),
    );
  };
}

function problem(req: Request, res: Response, status: number, detail: string): void {
  res
    .status(status)
    .type(PROBLEM_JSON)
    .send(
      JSON.stringify({
        type: 'about:blank',
        title: STATUS_CODES[status],
        status,
        detail,
        instance: req.originalUrl,
      }),
    );
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
