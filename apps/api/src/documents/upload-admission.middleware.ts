import { HttpStatus, Injectable, NestMiddleware } from '@nestjs/common';
import { QuarryConfig } from '@quarry/config';
import { MetricNames, MetricsService } from '@quarry/observability';
import type { NextFunction, Request, Response } from 'express';
import { unlink } from 'node:fs/promises';
import type { Gauge } from 'prom-client';
import { ProblemException } from '../common/problem-details.filter';
import { isUploadRoute } from '../common/request-path';

/** Room for the multipart framing and form fields around the file itself. */
const MULTIPART_OVERHEAD = 1024 * 1024;

/**
 * Admits an upload against UPLOAD_INFLIGHT_MAX_BYTES before its body is read, so the
 * api's memory does not grow with the number of concurrent uploads. The Content-Length
 * is reserved until the answer is sent; a body without one (chunked) reserves the
 * largest upload it could be. Past the budget: 503 with Retry-After, nothing read or
 * stored. A declared length over the upload limit is a 413 at once. The spooled
 * temporary file (if any) is removed when the request ends, whatever the outcome.
 */
@Injectable()
export class UploadAdmissionMiddleware implements NestMiddleware {
  private inflight = 0;
  private readonly gauge: Gauge;

  constructor(
    private readonly config: QuarryConfig,
    metrics: MetricsService,
  ) {
    this.gauge = metrics.gauge(
      MetricNames.uploadInflightBytes,
      'Bytes of uploads admitted and not yet answered',
    );
  }

  get inflightBytes(): number {
    return this.inflight;
  }

  use(req: Request, res: Response, next: NextFunction): void {
    if (!isUploadRoute(req)) return next();
    const limit = this.config.upload.maxBytes;
    const declared = Number(req.headers['content-length']);
    const known = req.headers['content-length'] !== undefined && Number.isFinite(declared);
    const ceiling = req.is('multipart/form-data') ? limit + MULTIPART_OVERHEAD : limit * 2 + 65536;
    if (known && declared > ceiling) {
      return next(
        new ProblemException(
          HttpStatus.PAYLOAD_TOO_LARGE,
          `The upload is ${declared} bytes; UPLOAD_MAX_BYTES allows ${limit}.`,
          { limit_bytes: limit },
        ),
      );
    }
    const reserved = known ? declared : ceiling;
    const budget = this.config.upload.inflightMaxBytes;
    // One upload larger than the whole budget is still admitted when nothing else is in flight.
    if (this.inflight > 0 && this.inflight + reserved > budget) {
      return next(
        new ProblemException(
          HttpStatus.SERVICE_UNAVAILABLE,
          'The api is receiving as many uploads as it has memory for. Retry shortly.',
          {},
          { 'Retry-After': '2' },
        ),
      );
    }
    this.inflight += reserved;
    this.gauge.set(this.inflight);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.inflight -= reserved;
      this.gauge.set(this.inflight);
      const spooled = (req as { file?: { path?: string } }).file?.path;
      if (spooled) void unlink(spooled).catch(() => undefined);
    };
    res.once('close', release);
    res.once('finish', release);
    next();
  }
}
