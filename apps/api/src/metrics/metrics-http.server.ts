import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { QuarryConfig } from '@quarry/config';
import {
  HealthPaths,
  MetricsService,
  ShutdownCoordinator,
  ShutdownPhase,
  startPlainHttpServer,
} from '@quarry/observability';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/**
 * Prometheus metrics on METRICS_PORT, apart from the public port: the scrape needs no
 * key, and the public api shows nothing of its internals. Plain node:http, one route.
 */
@Injectable()
export class MetricsHttpServer implements OnApplicationBootstrap {
  private readonly logger = new Logger('MetricsHttp');
  private server?: Server;

  constructor(
    private readonly config: QuarryConfig,
    private readonly metrics: MetricsService,
    private readonly shutdown: ShutdownCoordinator,
  ) {}

  get port(): number | undefined {
    const address = this.server?.address();
    return address && typeof address === 'object' ? address.port : undefined;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.server = await startPlainHttpServer({
      name: 'api metrics port',
      port: this.config.http.metricsPort,
      shutdown: this.shutdown,
      phase: ShutdownPhase.Qdrant,
      handle: (req, res) => void this.handle(req, res),
    });
    this.logger.log(`metrics on port ${this.port}`);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== HealthPaths.metrics) {
      res.writeHead(404, { 'Content-Type': 'application/problem+json' });
      res.end(JSON.stringify({ status: 404, title: 'Not Found' }));
      return;
    }
    try {
      const { contentType, body } = await this.metrics.render();
      res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
      res.end(body);
    } catch (err) {
      this.logger.error(err);
      res.writeHead(500, { 'Content-Type': 'application/problem+json' });
      res.end(JSON.stringify({ status: 500, title: 'Internal Server Error' }));
    }
  }
}
