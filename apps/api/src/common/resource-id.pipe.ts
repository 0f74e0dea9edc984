import { Injectable, PipeTransform } from '@nestjs/common';
import { isUuid, notFound } from '@quarry/documents';

/**
 * Ids in paths are UUIDs. Anything else names nothing this caller owns, so it is a 404
 * like any other missing resource (not a 400 that would tell ids apart).
 */
@Injectable()
export class ResourceIdPipe implements PipeTransform<string, string> {
  constructor(private readonly what: string) {}

  transform(value: string): string {
    if (!isUuid(value)) throw notFound(this.what, value);
    return value.toLowerCase();
  }
}
