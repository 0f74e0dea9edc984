import { SetMetadata } from '@nestjs/common';
import type { ApiKeyRole } from '@quarry/db';

export const REQUIRED_ROLES = 'quarry:roles';

/** Restricts a route (or a controller) to keys holding one of these roles. */
export const Roles = (...roles: ApiKeyRole[]): MethodDecorator & ClassDecorator =>
  SetMetadata(REQUIRED_ROLES, roles);
