import { Test } from '@nestjs/testing';
import { fixture } from '../test/fixtures';
import { Chunker } from './chunking/chunker';
import { DocumentExtractor } from './extraction/document-extractor';
import type { Embedder } from './embedding/embedder';
import { HashingEmbedder } from './embedding/hashing-embedder';
import { EMBEDDER, PipelineModule } from './pipeline.module';

describe('PipelineModule', () => {
  it('provides the configured extractor, chunker and embedder', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        PipelineModule.forRootAsync({
          useFactory: () => ({
            chunking: { chunkSize: 400, chunkOverlap: 40 },
            embedding: { provider: 'hashing', dimension: 96 },
          }),
        }),
      ],
    }).compile();
    const app = moduleRef.createNestApplication();
    await app.init();
    try {
      const chunker = app.get(Chunker);
      expect(chunker.chunkSize).toBe(400);
      expect(chunker.chunkOverlap).toBe(40);
      const embedder = app.get<Embedder>(EMBEDDER);
      expect(embedder).toBeInstanceOf(HashingEmbedder);
      expect(embedder.dimension).toBe(96);
      const doc = await app.get(DocumentExtractor).extract(fixture('sample-ko.pdf'));
      expect(doc.pages).toHaveLength(3);
    } finally {
      await app.close();
    }
  });

  it('uses the defaults with forRoot()', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [PipelineModule.forRoot()],
    }).compile();
    expect(moduleRef.get(Chunker).chunkSize).toBe(1000);
    expect(moduleRef.get<Embedder>(EMBEDDER).model).toBe('hashing-v1');
    await moduleRef.close();
  });
});
