import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Principal as AuthPrincipal } from '@quarry/documents';
import type { Request } from 'express';

export type AuthenticatedRequest = Request & { principal?: AuthPrincipal };

/** The caller the API key belongs to; set by ApiKeyGuard before any handler runs. */
export const Principal = createParamDecorator(
  (_data: unknown, context: ExecutionContext): AuthPrincipal => {
    const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
    if (!principal) throw new Error('@Principal() used on a route that is not authenticated');
    return principal;
  },
);
