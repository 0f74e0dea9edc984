import { DynamicModule, Module, Provider } from '@nestjs/common';
import { ConfigModule, QuarryConfig } from '@quarry/config';
import { CoreModule } from '@quarry/core';
import { OperationsModule } from '@quarry/documents';
import { CliOutput } from './cli-output';
import { CHECK_DATA_COMMAND, CheckDataCommand } from './commands/check-data.command';
import { API_KEYS_COMMANDS } from './commands/api-keys.command';
import { DemoCommand } from './commands/demo.command';
import { MigrateCommand } from './commands/migrate.command';
import { MODELS_COMMAND, ModelsCommand, ModelsPullCommand } from './commands/models.command';
import { OPERATIONS_COMMANDS } from './commands/operations-commands';

export interface CliModuleOptions {
  config: QuarryConfig;
  /** the command about to run (from the command line), when the caller knows it */
  command?: string;
  imports?: DynamicModule['imports'];
  commands?: Provider[];
}

@Module({})
export class CliModule {
  static register(options: CliModuleOptions): DynamicModule {
    // check-data reports an unreachable dependency instead of failing to start: it opens
    // its own connections, so it runs without the core modules that need them all.
    if (options.command === CHECK_DATA_COMMAND) {
      return {
        module: CliModule,
        imports: [ConfigModule.forRoot({ app: options.config.app, config: options.config })],
        providers: [CliOutput, CheckDataCommand],
      };
    }
    // Pulling a model talks only to the hub.
    if (options.command === MODELS_COMMAND) {
      return {
        module: CliModule,
        imports: [ConfigModule.forRoot({ app: options.config.app, config: options.config })],
        providers: [CliOutput, ModelsCommand, ModelsPullCommand],
      };
    }
    return {
      module: CliModule,
      imports: [
        CoreModule.forRoot({
          config: options.config,
          queueRole: 'producer',
          vectorBootstrap: false,
        }),
        OperationsModule,
        ...(options.imports ?? []),
      ],
      providers: [
        CliOutput,
        MigrateCommand,
        CheckDataCommand,
        DemoCommand,
        ...API_KEYS_COMMANDS,
        ...OPERATIONS_COMMANDS,
        ...(options.commands ?? []),
      ],
    };
  }
}
