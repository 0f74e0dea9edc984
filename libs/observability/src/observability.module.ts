import { DynamicModule, Global, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { MetricsService } from './metrics.service';
import { requestLogSerializers } from './request-log-serializers';
import { ShutdownCoordinator } from './shutdown-coordinator';

export interface ObservabilityOptions {
  /** quarry-api, quarry-worker, quarry-cli: the `app` field on every log line and metric */
  appName: string;
  level: string;
  /** readable one-line logs for development; JSON otherwise */
  pretty: boolean;
  shutdownGraceMs: number;
}

@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(options: ObservabilityOptions): DynamicModule {
    const coordinator = new ShutdownCoordinator();
    coordinator.setGraceMs(options.shutdownGraceMs);
    const metrics = new MetricsService();
    metrics.setDefaultLabels({ app: options.appName });
    return {
      module: ObservabilityModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            level: options.level,
            base: { app: options.appName },
            redact: {
              paths: [
                'req.headers.authorization',
                'req.headers.cookie',
                'req.headers["x-api-key"]',
              ],
              censor: '[masked]',
            },
            genReqId: (req: IncomingMessage) => {
              const given = req.headers['x-request-id'];
              return typeof given === 'string' && given.length <= 128 ? given : randomUUID();
            },
            customProps: (req: IncomingMessage) => ({ request_id: (req as { id?: unknown }).id }),
            // One short line per request: what was asked and how it ended. Headers stay out
            // (nothing to mask, nothing to serialise on every request).
            serializers: requestLogSerializers,
            autoLogging: { ignore: (req: IncomingMessage) => isProbe(req.url) },
            transport: options.pretty
              ? {
                  target: 'pino-pretty',
                  options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l' },
                }
              : undefined,
          },
        }),
      ],
      providers: [
        { provide: ShutdownCoordinator, useValue: coordinator },
        { provide: MetricsService, useValue: metrics },
      ],
      exports: [ShutdownCoordinator, MetricsService, LoggerModule],
    };
  }
}

function isProbe(url: string | undefined): boolean {
  return !!url && (url.startsWith('/health/') || url === '/metrics');
}
