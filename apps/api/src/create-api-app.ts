import { BadRequestException, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { QuarryConfig, describeConfig } from '@quarry/config';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { ApiModule, ApiModuleOptions } from './api.module';

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
  // Exit 0 after a clean drain instead of re-raising the signal.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  app.get(Logger).log({ config: describeConfig(config) }, 'configuration');
  return app;
}
