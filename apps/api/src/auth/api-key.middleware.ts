import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Response } from 'express';
import { isSearchRoute, isUploadRoute, requestPath } from '../common/request-path';
import { AbuseLimitsService } from '../limits/abuse-limits.service';
import type { AuthenticatedRequest } from './principal.decorator';
import { RequestAuthenticator } from './request-authenticator.service';

/**
 * Every /v1 route needs a key, so the key is verified here, before any body is read
 * or parsed: a request without valid credentials costs a header check, never a buffered
 * body. The per-key upload and search budgets are taken here too, for the same reason.
 * ApiKeyGuard still applies roles, and keys on routes outside /v1.
 */
@Injectable()
export class ApiKeyMiddleware implements NestMiddleware {
  constructor(
    private readonly authenticator: RequestAuthenticator,
    private readonly limits: AbuseLimitsService,
  ) {}

  use(req: AuthenticatedRequest, res: Response, next: NextFunction): void {
    if (!requestPath(req).startsWith('/v1/')) return next();
    this.admit(req, res).then(
      () => next(),
      (err: unknown) => next(err),
    );
  }

  private async admit(req: AuthenticatedRequest, res: Response): Promise<void> {
    const principal = await this.authenticator.authenticate(req);
    req.principal = principal;
    if (isUploadRoute(req)) {
      await this.limits.consume('upload', principal.keyId);
      const release = await this.limits.startUpload(principal.keyId);
      res.once('close', release);
    } else if (isSearchRoute(req)) await this.limits.consume('search', principal.keyId);
  }
}
