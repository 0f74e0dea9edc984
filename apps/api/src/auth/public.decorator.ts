import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'quarry:public';

/** Marks a route (or a whole controller) as reachable without an API key. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);
