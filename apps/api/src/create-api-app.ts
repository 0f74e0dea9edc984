import { BadRequestException, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { QuarryConfig, describeConfig } from '@quarry/config';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { ApiModule, ApiModuleOptions } from './api.module';
import { setupOpenApi } from './openapi/setup-openapi';

/** Builds the api application exactly as production runs it; tests use the same path. */
export async function createApiApp(
  config: QuarryConfig,
  extra: Omit<ApiModuleOptions, 'config'> = {},
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(
    ApiModule.register({ config, ...extra }),
    // Bodies are parsed by JsonBodyMiddleware, after the key is verified.
    { bufferLogs: true, bodyParser: false },
  );
  app.useLogger(app.get(Logger));
  // A slow client cannot hold a socket: headers and the whole request have deadlines.
  const server = app.getHttpServer();
  server.keepAliveTimeout = config.http.keepAliveTimeoutMs;
  server.headersTimeout = config.http.headersTimeoutMs;
  server.requestTimeout = config.http.requestTimeoutMs;
  // Node checks those deadlines on this interval (30 s by default); read when listening starts.
  (server as { connectionsCheckingInterval?: number }).connectionsCheckingInterval = 1_000;
  app.set('trust proxy', 'loopback, linklocal, uniquelocal');
  // No ETag hashing of every JSON answer: the API's answers are live state, never revalidated.
  app.set('etag', false);
  app.use(helmet());
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: (errors) =>
        new BadRequestException(
          errors.flatMap((e) =>
            Object.values(e.constraints ?? { invalid: `${e.property} is invalid` }),
          ),
        ),
    }),
  );
  setupOpenApi(app);
  // Exit 0 after a clean drain instead of re-raising the signal.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  app.get(Logger).log({ config: describeConfig(config) }, 'configuration');
  return app;
}
