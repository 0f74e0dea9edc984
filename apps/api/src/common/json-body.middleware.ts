import { HttpStatus, Injectable, NestMiddleware } from '@nestjs/common';
import { QuarryConfig } from '@quarry/config';
import { jsonNestingExceeds } from '@quarry/documents';
import { json, type NextFunction, type Request, type Response } from 'express';
import { ProblemException } from './problem-details.filter';
import { isTextUploadRoute } from './request-path';

type Parser = (req: Request, res: Response, next: NextFunction) => void;

const JSON_TYPES = ['application/json', 'application/*+json'];

/**
 * JSON bodies, bounded before they are read: JSON_BODY_MAX_BYTES everywhere, the upload
 * limit (plus room for JSON escaping) only on the text upload. Nesting deeper than
 * JSON_MAX_DEPTH is refused with one linear pass over the raw bytes before parsing.
 * It runs after ApiKeyMiddleware, so under /v1 only a verified key gets a body read.
 */
@Injectable()
export class JsonBodyMiddleware implements NestMiddleware {
  private readonly small: Parser;
  private readonly large: Parser;

  constructor(config: QuarryConfig) {
    const maxDepth = config.http.jsonMaxDepth;
    const verify = (_req: Request, _res: Response, body: Buffer): void => {
      if (jsonNestingExceeds(body, maxDepth)) {
        throw Object.assign(
          new ProblemException(
            HttpStatus.BAD_REQUEST,
            `The JSON body nests deeper than ${maxDepth} levels.`,
          ),
          { status: HttpStatus.BAD_REQUEST, type: 'entity.too.deep' },
        );
      }
    };
    this.small = json({ limit: config.http.jsonMaxBytes, type: JSON_TYPES, verify });
    this.large = json({
      limit: Math.max(config.http.jsonMaxBytes, config.upload.maxBytes * 2 + 64 * 1024),
      type: JSON_TYPES,
      verify,
    });
  }

  use(req: Request, res: Response, next: NextFunction): void {
    (isTextUploadRoute(req) ? this.large : this.small)(req, res, next);
  }
}
