import { BeforeApplicationShutdown, Injectable, Logger, NestMiddleware } from '@nestjs/common';
import { QuarryConfig } from '@quarry/config';
import { ShutdownCoordinator } from '@quarry/observability';
import type { NextFunction, Request, Response } from 'express';

/**
 * Graceful HTTP drain. On SIGTERM the process turns unready at once (readiness answers
 * 503 so load balancers stop sending), keeps serving what arrives, and lets Nest close
 * the listener only once the requests in flight have finished or the grace ran out.
 */
@Injectable()
export class HttpDrainService implements NestMiddleware, BeforeApplicationShutdown {
  private readonly logger = new Logger('HttpDrain');
  private inFlight = 0;
  private idle?: () => void;

  constructor(
    private readonly shutdown: ShutdownCoordinator,
    private readonly config: QuarryConfig,
  ) {}

  use(_req: Request, res: Response, next: NextFunction): void {
    this.inFlight++;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      this.inFlight--;
      if (this.inFlight === 0) this.idle?.();
    };
    res.once('finish', finish);
    res.once('close', finish);
    next();
  }

  get requestsInFlight(): number {
    return this.inFlight;
  }

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.shutdown.markShuttingDown();
    if (this.inFlight === 0) return;
    this.logger.log(`draining ${this.inFlight} request(s) before closing (${signal ?? 'close'})`);
    const graceMs = this.config.shutdown.graceMs;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, graceMs);
      timer.unref();
      this.idle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
