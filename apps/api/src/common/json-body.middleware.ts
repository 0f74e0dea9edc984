import { HttpStatus, Injectable, NestMiddleware } from '@nestjs/common';
import { QuarryConfig } from '@quarry/config';
import { DEFAULT_JSON_MAX_VALUES, jsonShapeProblem } from '@quarry/documents';
import { json, type NextFunction, type Request, type Response } from 'express';
import { ProblemException } from './problem-details.filter';
import { isTextUploadRoute } from './request-path';

type Parser = (req: Request, res: Response, next: NextFunction) => void;

const JSON_TYPES = ['application/json', 'application/*+json'];

/**
 * JSON bodies, bounded before they are read: JSON_BODY_MAX_BYTES everywhere, the upload
 * limit (plus room for JSON escaping) only on the text upload. Nesting deeper than
 * JSON_MAX_DEPTH, or more than 100,000 values, is refused with one linear pass over the
 * raw bytes before parsing, so a body's heap cost stays close to its size.
 * It runs after ApiKeyMiddleware, so under /v1 only a verified key gets a body read.
 */
@Injectable()
export class JsonBodyMiddleware implements NestMiddleware {
  private readonly small: Parser;
  private readonly large: Parser;

  constructor(config: QuarryConfig) {
    const limits = { maxDepth: config.http.jsonMaxDepth, maxValues: DEFAULT_JSON_MAX_VALUES };
    const verify = (_req: Request, _res: Response, body: Buffer): void => {
      const problem = jsonShapeProblem(body, limits);
      if (problem) {
        throw Object.assign(
          new ProblemException(HttpStatus.BAD_REQUEST, `The JSON body ${problem}.`),
          { status: HttpStatus.BAD_REQUEST, type: 'entity.verify.failed' },
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
