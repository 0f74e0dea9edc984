import { Injectable, NestMiddleware } from '@nestjs/common';
import { MetricNames, MetricsService } from '@quarry/observability';
import type { NextFunction, Request, Response } from 'express';
import type { Histogram } from 'prom-client';

/** Request duration by route template (never the raw URL: ids would explode cardinality). */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  private readonly duration: Histogram<'method' | 'route' | 'status_code'>;

  constructor(metrics: MetricsService) {
    this.duration = metrics.histogram(
      MetricNames.httpRequestDuration,
      'HTTP request duration in seconds',
      ['method', 'route', 'status_code'],
      { buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] },
    );
  }

  use(req: Request, res: Response, next: NextFunction): void {
    const end = this.duration.startTimer();
    res.once('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path;
      end({
        method: req.method,
        route: route ? `${req.baseUrl}${route}` : 'unmatched',
        status_code: String(res.statusCode),
      });
    });
    next();
  }
}
