import { CanActivate, ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { ApiKeyRole } from '@quarry/db';
import { ApiKeysService } from '@quarry/documents';
import { ProblemException } from '../common/problem-details.filter';
import { readCredentials } from './bearer-credentials';
import type { AuthenticatedRequest } from './principal.decorator';
import { IS_PUBLIC } from './public.decorator';
import { REQUIRED_ROLES } from './roles.decorator';

export const BEARER_CHALLENGE = 'Bearer realm="quarry"';

/**
 * Every route needs an API key unless marked @Public(). The key's owner scopes every
 * query below, so a handler never sees another owner's data.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeysService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const credentials = readCredentials(request.headers);
    if (credentials.scheme !== 'bearer') {
      throw unauthorized('An API key is required: send it as `Authorization: Bearer <key>`.');
    }
    const principal = await this.apiKeys.verify(credentials.token);
    if (!principal) throw unauthorized('The API key is unknown or has been revoked.');
    request.principal = principal;
    const roles = this.reflector.getAllAndOverride<ApiKeyRole[] | undefined>(
      REQUIRED_ROLES,
      targets,
    );
    if (roles && !roles.includes(principal.role)) {
      throw new ProblemException(
        HttpStatus.FORBIDDEN,
        `This endpoint needs a key with the role ${roles.join(' or ')}.`,
      );
    }
    return true;
  }
}

function unauthorized(detail: string): ProblemException {
  return new ProblemException(
    HttpStatus.UNAUTHORIZED,
    detail,
    {},
    { 'WWW-Authenticate': BEARER_CHALLENGE },
  );
}
