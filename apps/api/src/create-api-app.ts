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
    { bufferLogs: true },
  );
  app.useLogger(app.get(Logger));
  app.set('trust proxy', 'loopback, linklocal, uniquelocal');
  // No ETag hashing of every JSON answer: the API's answers are live state, never revalidated.
  app.set('etag', false);
  app.use(helmet());
  // Text uploads arrive as JSON: leave room for UPLOAD_MAX_BYTES of text plus its
  // escaping; the exact limit is checked on the decoded text (413 with the numbers).
  app.useBodyParser('json', { limit: config.upload.maxBytes * 2 + 64 * 1024 });
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
