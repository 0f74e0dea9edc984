import { DynamicModule, Global, Module, ModuleMetadata, Provider } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { QdrantGateway } from './qdrant.gateway';
import { VectorHealthIndicator } from './vector.health';
import { VECTOR_MODULE_OPTIONS, VectorModuleOptions } from './vector-module-options';

export interface VectorModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  // Nest's own signature for factory providers: dependencies arrive untyped.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  useFactory: (...args: any[]) => VectorModuleOptions | Promise<VectorModuleOptions>;
  inject?: NonNullable<Extract<Provider, { useFactory: unknown }>['inject']>;
}

/**
 * Qdrant access for the whole application. Values come from libs/config; this module
 * never reads the environment. The gateway bootstraps the collection on module init
 * (unless `bootstrap: false`), so a dimension mismatch stops start-up.
 */
@Global()
@Module({})
export class VectorModule {
  static forRoot(options: VectorModuleOptions): DynamicModule {
    return VectorModule.build([{ provide: VECTOR_MODULE_OPTIONS, useValue: options }], []);
  }

  static forRootAsync(options: VectorModuleAsyncOptions): DynamicModule {
    return VectorModule.build(
      [
        {
          provide: VECTOR_MODULE_OPTIONS,
          useFactory: options.useFactory,
          inject: options.inject ?? [],
        },
      ],
      options.imports ?? [],
    );
  }

  private static build(
    optionsProviders: Provider[],
    imports: NonNullable<ModuleMetadata['imports']>,
  ): DynamicModule {
    return {
      module: VectorModule,
      global: true,
      imports: [...imports, TerminusModule],
      providers: [...optionsProviders, QdrantGateway, VectorHealthIndicator],
      exports: [QdrantGateway, VectorHealthIndicator],
    };
  }
}
