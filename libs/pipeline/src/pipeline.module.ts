import {
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type InjectionToken,
  type ModuleMetadata,
  type OnApplicationShutdown,
  type OptionalFactoryDependency,
} from '@nestjs/common';
import { Chunker, type ChunkOptions } from './chunking/chunker';
import { DocumentExtractor, type DocumentExtractorOptions } from './extraction/document-extractor';
import type { Embedder, EmbedderOptions } from './embedding/embedder';
import { createEmbedder } from './embedding/embedder-factory';

/** Injection token for the configured `Embedder` (an interface, so it needs a token). */
export const EMBEDDER = Symbol('quarry.pipeline.embedder');
const PIPELINE_OPTIONS = Symbol('quarry.pipeline.options');

export interface PipelineModuleOptions {
  chunking?: ChunkOptions;
  embedding?: EmbedderOptions;
  extraction?: DocumentExtractorOptions;
}

export interface PipelineModuleAsyncOptions {
  imports?: ModuleMetadata['imports'];
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  useFactory: (...args: never[]) => PipelineModuleOptions | Promise<PipelineModuleOptions>;
}

/** Stops the PDF and embedding threads once the application has drained its jobs. */
@Injectable()
class PipelineShutdown implements OnApplicationShutdown {
  constructor(
    @Inject(DocumentExtractor) private readonly extractor: DocumentExtractor,
    @Inject(EMBEDDER) private readonly embedder: Embedder,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.extractor.close(), this.embedder.close?.()]);
  }
}

/**
 * Optional Nest wrapper: provides `DocumentExtractor`, `Chunker` and the `EMBEDDER`.
 * The pipeline itself is plain classes and can be used without Nest.
 */
@Module({})
export class PipelineModule {
  static forRoot(options: PipelineModuleOptions = {}): DynamicModule {
    return PipelineModule.build([{ provide: PIPELINE_OPTIONS, useValue: options }]);
  }

  static forRootAsync(options: PipelineModuleAsyncOptions): DynamicModule {
    return PipelineModule.build(
      [
        {
          provide: PIPELINE_OPTIONS,
          inject: options.inject ?? [],
          useFactory: options.useFactory as (...args: unknown[]) => PipelineModuleOptions,
        },
      ],
      options.imports,
    );
  }

  private static build(
    optionProviders: DynamicModule['providers'] & object,
    imports: ModuleMetadata['imports'] = [],
  ): DynamicModule {
    return {
      module: PipelineModule,
      imports,
      providers: [
        ...optionProviders,
        {
          provide: DocumentExtractor,
          inject: [PIPELINE_OPTIONS],
          useFactory: (o: PipelineModuleOptions) => new DocumentExtractor(o.extraction),
        },
        {
          provide: Chunker,
          inject: [PIPELINE_OPTIONS],
          useFactory: (o: PipelineModuleOptions) => new Chunker(o.chunking),
        },
        {
          provide: EMBEDDER,
          inject: [PIPELINE_OPTIONS],
          // Awaited, so a model that cannot load stops start-up with its one-line reason.
          useFactory: async (o: PipelineModuleOptions): Promise<Embedder> => {
            const embedder = createEmbedder(o.embedding);
            await embedder.ready?.();
            return embedder;
          },
        },
        PipelineShutdown,
      ],
      exports: [DocumentExtractor, Chunker, EMBEDDER],
    };
  }
}
