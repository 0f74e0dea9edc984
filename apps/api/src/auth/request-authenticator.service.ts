import { HttpStatus, Injectable } from '@nestjs/common';
import { ApiKeysService, Principal } from '@quarry/documents';
import type { Request } from 'express';
import { ProblemException } from '../common/problem-details.filter';
import { AbuseLimitsService } from '../limits/abuse-limits.service';
import { readCredentials } from './bearer-credentials';

export const BEARER_CHALLENGE = 'Bearer realm="quarry"';

/**
 * Turns a request's bearer key into its principal, or a 401. An address that keeps
 * sending bad keys gets a 429 before its next key costs a database lookup.
 */
@Injectable()
export class RequestAuthenticator {
  constructor(
    private readonly apiKeys: ApiKeysService,
    private readonly limits: AbuseLimitsService,
  ) {}

  async authenticate(request: Request): Promise<Principal> {
    const address = request.ip ?? request.socket.remoteAddress ?? 'unknown';
    const credentials = readCredentials(request.headers);
    if (credentials.scheme !== 'bearer') {
      throw unauthorized('An API key is required: send it as `Authorization: Bearer <key>`.');
    }
    // A key already verified costs nothing to check again: a client behind the same
    // address as a guesser keeps working.
    if (!this.apiKeys.isCached(credentials.token)) await this.limits.assertAuthAllowed(address);
    const principal = await this.apiKeys.verify(credentials.token);
    if (!principal) {
      await this.limits.recordAuthFailure(address);
      throw unauthorized('The API key is unknown or has been revoked.');
    }
    return principal;
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
