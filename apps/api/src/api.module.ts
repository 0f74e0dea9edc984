import { DynamicModule, MiddlewareConsumer, Module, NestModule, Type } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { MulterModule } from '@nestjs/platform-express';
import { QuarryConfig } from '@quarry/config';
import { CoreModule } from '@quarry/core';
import { DocumentsModule } from '@quarry/documents';
import { diskStorage } from 'multer';
import { tmpdir } from 'node:os';
import { AdminController } from './admin/admin.controller';
import { QueueDashboardModule } from './admin/queue-dashboard.module';
import { ApiKeyGuard } from './auth/api-key.guard';
import { CollectionsController } from './collections/collections.controller';
import { ApiKeyMiddleware } from './auth/api-key.middleware';
import { RequestAuthenticator } from './auth/request-authenticator.service';
import { HttpDrainService } from './common/http-drain.service';
import { JsonBodyMiddleware } from './common/json-body.middleware';
import { HttpMetricsMiddleware } from './common/http-metrics.middleware';
import { ProblemDetailsFilter } from './common/problem-details.filter';
import { DocumentEventStreamService } from './documents/document-event-stream.service';
import { DocumentsController } from './documents/documents.controller';
import { UploadAdmissionMiddleware } from './documents/upload-admission.middleware';
import { AbuseLimitsModule } from './limits/abuse-limits.module';
import { MetricsHttpServer } from './metrics/metrics-http.server';
import { HealthController } from './health/health.controller';
import { IntegrityApiModule } from './integrity/integrity-api.module';
import { OperationsApiModule } from './operations/operations-api.module';
import { SearchApiModule } from './search/search-api.module';

export interface ApiModuleOptions {
  config: QuarryConfig;
  /** extra modules (tests mount probes of their own; mark those @Public() explicitly) */
  extraModules?: Type[];
}

@Module({})
export class ApiModule implements NestModule {
  static register(options: ApiModuleOptions): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        CoreModule.forRoot({
          config: options.config,
          queueRole: 'producer',
          vectorBootstrap: 'when-available',
        }),
        DocumentsModule,
        AbuseLimitsModule,
        MulterModule.register({
          // Spooled to a temporary file as it arrives (random name, never the client's):
          // memory does not grow with the size or number of uploads being received.
          storage: diskStorage({ destination: options.config.upload.tmpDir ?? tmpdir() }),
          // One byte over the limit is enough to tell "too large" apart; multer stops
          // reading there and the upload answers 413 without buffering the rest.
          limits: { fileSize: options.config.upload.maxBytes + 1, files: 1, fields: 20, parts: 25 },
          // RFC 7578 filenames are UTF-8 (Korean names would turn into mojibake as latin1).
          defParamCharset: 'utf8',
        }),
        QueueDashboardModule,
        SearchApiModule,
        IntegrityApiModule,
        OperationsApiModule,
        ...(options.extraModules ?? []),
      ],
      controllers: [HealthController, CollectionsController, DocumentsController, AdminController],
      providers: [
        HttpDrainService,
        HttpMetricsMiddleware,
        RequestAuthenticator,
        ApiKeyMiddleware,
        UploadAdmissionMiddleware,
        JsonBodyMiddleware,
        MetricsHttpServer,
        DocumentEventStreamService,
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
        { provide: APP_GUARD, useClass: ApiKeyGuard },
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    // In this order: the key is checked and the upload admitted before any body is read.
    consumer
      .apply(
        HttpDrainService,
        HttpMetricsMiddleware,
        ApiKeyMiddleware,
        UploadAdmissionMiddleware,
        JsonBodyMiddleware,
      )
      .forRoutes('*path');
  }
}
