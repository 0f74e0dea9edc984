import type { DbService } from '@quarry/db';
import { createEmbedder, type Embedder, HashingEmbedder } from '@quarry/pipeline';
import type { QdrantGateway } from '@quarry/vector';
import { SearchService } from './search.service';

describe('hybrid fusion weights', () => {
  const service = (embedder: Embedder = new HashingEmbedder(), options = {}) =>
    new SearchService({} as DbService, {} as QdrantGateway, embedder, options);

  it('come from the embedder profile: keyword ahead of the lexical hashing embedder', () => {
    expect(service().fusionWeights).toEqual({ semantic: 1, keyword: 1.5 });
  });

  it('are equal for a semantic model, unless configured', () => {
    const openai = createEmbedder({
      provider: 'openai',
      baseUrl: 'http://127.0.0.1:1',
      model: 'multilingual-e5-small',
    });
    expect(service(openai).fusionWeights).toEqual({ semantic: 1, keyword: 1 });
    const tuned = createEmbedder({
      provider: 'openai',
      baseUrl: 'http://127.0.0.1:1',
      model: 'm',
      fusion: { keyword: 1.2 },
    });
    expect(service(tuned).fusionWeights).toEqual({ semantic: 1, keyword: 1.2 });
  });

  it('yield to the search module options', () => {
    expect(service(new HashingEmbedder(), { keywordWeight: 3 }).fusionWeights).toEqual({
      semantic: 1,
      keyword: 3,
    });
  });
});
