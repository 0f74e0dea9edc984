import { DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigOverrides, loadConfig } from './load-config';
import { AppName, QuarryConfig } from './quarry-config';

export interface ConfigModuleOptions {
  app: AppName;
  overrides?: ConfigOverrides;
  /** An already loaded configuration (tests, or an app that loaded it before bootstrap). */
  config?: QuarryConfig;
}

/** Provides the validated QuarryConfig; loading fails fast before any module starts. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(options: ConfigModuleOptions): DynamicModule {
    const config = options.config ?? loadConfig({ app: options.app, overrides: options.overrides });
    return {
      module: ConfigModule,
      providers: [{ provide: QuarryConfig, useValue: config }],
      exports: [QuarryConfig],
    };
  }
}
