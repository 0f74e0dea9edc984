import { DynamicModule, Module, Provider } from '@nestjs/common';
import { QuarryConfig } from '@quarry/config';
import { CoreModule } from '@quarry/core';
import { CliOutput } from './cli-output';
import { API_KEYS_COMMANDS } from './commands/api-keys.command';
import { DemoCommand } from './commands/demo.command';
import { MigrateCommand } from './commands/migrate.command';

export interface CliModuleOptions {
  config: QuarryConfig;
  imports?: DynamicModule['imports'];
  commands?: Provider[];
}

@Module({})
export class CliModule {
  static register(options: CliModuleOptions): DynamicModule {
    return {
      module: CliModule,
      imports: [
        CoreModule.forRoot({
          config: options.config,
          queueRole: 'producer',
          vectorBootstrap: false,
        }),
        ...(options.imports ?? []),
      ],
      providers: [
        CliOutput,
        MigrateCommand,
        DemoCommand,
        ...API_KEYS_COMMANDS,
        ...(options.commands ?? []),
      ],
    };
  }
}
