import { CanActivate, ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { ApiKeyRole } from '@quarry/db';
import { ProblemException } from '../common/problem-details.filter';
import type { AuthenticatedRequest } from './principal.decorator';
import { IS_PUBLIC } from './public.decorator';
import { RequestAuthenticator } from './request-authenticator.service';
import { REQUIRED_ROLES } from './roles.decorator';

export { BEARER_CHALLENGE } from './request-authenticator.service';

/**
 * Every route needs an API key unless marked @Public(). The key's owner scopes every
 * query below, so a handler never sees another owner's data. Under /v1 the key was
 * already verified by ApiKeyMiddleware, before the body was read.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: RequestAuthenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    request.principal ??= await this.authenticator.authenticate(request);
    const principal = request.principal;
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
