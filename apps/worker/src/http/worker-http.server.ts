import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { QuarryConfig } from '@quarry/config';
import { DbHealthIndicator } from '@quarry/db';
import {
  HealthPaths,
  MetricNames,
  MetricsService,
  ShutdownCoordinator,
  ShutdownPhase,
  startPlainHttpServer,
} from '@quarry/observability';
import { QueueHealthIndicator } from '@quarry/queue';
import { VectorHealthIndicator } from '@quarry/vector';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Histogram } from 'prom-client';

/**
 * The worker's only HTTP surface: probes and metrics on WORKER_HTTP_PORT. Plain
 * node:http, since the worker has no public API to serve.
 */
@Injectable()
export class WorkerHttpServer implements OnApplicationBootstrap {
  private readonly logger = new Logger('WorkerHttp');
  private server?: Server;
  private readonly duration: Histogram<'method' | 'route' | 'status_code'>;

  constructor(
    private readonly config: QuarryConfig,
    private readonly metrics: MetricsService,
    private readonly shutdown: ShutdownCoordinator,
    private readonly db: DbHealthIndicator,
    private readonly redis: QueueHealthIndicator,
    private readonly qdrant: VectorHealthIndicator,
  ) {
    this.duration = metrics.histogram(
      MetricNames.httpRequestDuration,
      'HTTP request duration in seconds',
      ['method', 'route', 'status_code'],
    );
  }

  get port(): number | undefined {
    const address = this.server?.address();
    return address && typeof address === 'object' ? address.port : undefined;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.server = await startPlainHttpServer({
      name: 'worker http port',
      port: this.config.http.workerPort,
      shutdown: this.shutdown,
      // Last to close before the pools, so probes keep answering (503) while jobs drain.
      phase: ShutdownPhase.Qdrant,
      handle: (req, res) => void this.handle(req, res),
    });
    this.logger.log(`health and metrics on port ${this.port}`);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const end = this.duration.startTimer();
    const path = (req.url ?? '/').split('?')[0];
    let status = 404;
    let body: string;
    let type = 'application/json';
    try {
      if (req.method !== 'GET') {
        status = 405;
        body = JSON.stringify({ status: 405, title: 'Method Not Allowed' });
      } else if (path === HealthPaths.live) {
        status = 200;
        body = JSON.stringify({ status: 'ok' });
      } else if (path === HealthPaths.ready) {
        ({ status, body } = await this.readiness());
      } else if (path === HealthPaths.metrics) {
        const rendered = await this.metrics.render();
        status = 200;
        body = rendered.body;
        type = rendered.contentType;
      } else {
        body = JSON.stringify({ status: 404, title: 'Not Found', detail: `no route ${path}` });
      }
    } catch (err) {
      status = 500;
      body = JSON.stringify({ status: 500, title: 'Internal Server Error' });
      this.logger.error(err);
    }
    if (status >= 400 && type === 'application/json') type = 'application/problem+json';
    res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
    res.end(body);
    end({
      method: req.method ?? 'GET',
      route: status === 404 ? 'unmatched' : path,
      status_code: String(status),
    });
  }

  private async readiness(): Promise<{ status: number; body: string }> {
    if (this.shutdown.isShuttingDown) {
      return {
        status: 503,
        body: JSON.stringify({
          status: 503,
          title: 'Service Unavailable',
          detail: 'shutting down',
        }),
      };
    }
    const results = await Promise.all([
      this.db.isHealthy(),
      this.redis.isHealthy(),
      this.qdrant.isHealthy(),
    ]);
    const details = Object.assign({}, ...results) as Record<string, { status: string }>;
    const up = Object.values(details).every((d) => d.status === 'up');
    return {
      status: up ? 200 : 503,
      body: JSON.stringify({ status: up ? 'ok' : 'error', details }),
    };
  }
}
