import {
  DynamicModule,
  Inject,
  Injectable,
  InjectionToken,
  Logger,
  Module,
  ModuleMetadata,
  OnApplicationShutdown,
  Optional,
  OptionalFactoryDependency,
  Provider,
} from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { MetricsService, ShutdownCoordinator, ShutdownPhase } from '@quarry/observability';
import { DataSource } from 'typeorm';
import { createDataSource, migrate } from './data-source.factory';
import { DbEvents } from './db-events';
import { bindDbMetrics } from './db-metrics';
import { DB_OPTIONS, DbModuleOptions } from './db-options';
import { DbHealthIndicator } from './db.health';
import { DbService } from './db.service';
import { TransactionService } from './transaction.service';

export interface DbModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  inject?: Array<InjectionToken | OptionalFactoryDependency>;
  useFactory: (...args: never[]) => DbModuleOptions | Promise<DbModuleOptions>;
}

export async function closeDataSource(dataSource: DataSource): Promise<void> {
  if (dataSource.isInitialized) await dataSource.destroy();
}

/** Closes the pool itself only in a context without the ShutdownCoordinator (e.g. a test). */
@Injectable()
class DbLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Optional() private readonly coordinator?: ShutdownCoordinator,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    if (!this.coordinator) await closeDataSource(this.dataSource);
  }
}

async function openDataSource(
  options: DbModuleOptions,
  events: DbEvents,
  coordinator?: ShutdownCoordinator,
  metrics?: MetricsService,
): Promise<DataSource> {
  const logger = new Logger('Database');
  const dataSource = createDataSource(options, { events });
  await dataSource.initialize();
  // Registered before migrating so a failed start still closes the pool.
  coordinator?.register({
    name: 'database pool',
    phase: ShutdownPhase.Database,
    close: () => closeDataSource(dataSource),
  });
  if (metrics) bindDbMetrics(metrics, events, dataSource);
  if (options.migrationsRun) {
    const applied = await migrate(dataSource);
    logger.log(applied.length ? `applied migrations: ${applied.join(', ')}` : 'schema is current');
  }
  return dataSource;
}

const sharedProviders: Provider[] = [
  { provide: DbEvents, useFactory: () => new DbEvents() },
  {
    provide: DataSource,
    useFactory: openDataSource,
    inject: [
      DB_OPTIONS,
      DbEvents,
      { token: ShutdownCoordinator, optional: true },
      { token: MetricsService, optional: true },
    ],
  },
  TransactionService,
  DbService,
  DbHealthIndicator,
  DbLifecycle,
];

const exported = [
  DB_OPTIONS,
  DataSource,
  DbEvents,
  TransactionService,
  DbService,
  DbHealthIndicator,
];

/**
 * The TypeORM DataSource over pg with Quarry's connection discipline. Global: import it
 * once in the app module. Options come from the app's config; nothing here reads env.
 */
@Module({})
export class DbModule {
  static forRoot(options: DbModuleOptions): DynamicModule {
    return {
      module: DbModule,
      global: true,
      imports: [TerminusModule],
      providers: [{ provide: DB_OPTIONS, useValue: options }, ...sharedProviders],
      exports: exported,
    };
  }

  static forRootAsync(options: DbModuleAsyncOptions): DynamicModule {
    return {
      module: DbModule,
      global: true,
      imports: [TerminusModule, ...(options.imports ?? [])],
      providers: [
        { provide: DB_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] },
        ...sharedProviders,
      ],
      exports: exported,
    };
  }
}
