import { QdrantClient } from '@qdrant/js-client-rest';
import { spawnQdrantEmulator, SpawnedQdrant } from '@quarry/testing';

/**
 * Emulator-only (it starts its own emulator): the features the emulator leaves out answer
 * a 400 whose status.error says the emulator does not support them, never a wrong answer.
 */
describe('what the emulator refuses', () => {
  let emulator: SpawnedQdrant;
  let client: QdrantClient;

  beforeAll(async () => {
    emulator = await spawnQdrantEmulator();
    client = new QdrantClient({ url: emulator.url, checkCompatibility: false });
    await client.createCollection('refuse', { vectors: { size: 2, distance: 'Dot' } });
    await client.upsert('refuse', { wait: true, points: [{ id: 1, vector: [1, 0] }] });
  });

  afterAll(async () => {
    await emulator.stop();
  });

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${emulator.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as { status: { error: string } } };
  };

  it.each([
    ['POST', '/cluster/recover', undefined],
    ['GET', '/collections/refuse/cluster', undefined],
    [
      'POST',
      '/collections/refuse/cluster',
      { move_shard: { shard_id: 0, from_peer_id: 1, to_peer_id: 2 } },
    ],
    ['PUT', '/collections/refuse/shards', { shard_key: 'a' }],
    ['POST', '/collections/refuse/shards/delete', { shard_key: 'a' }],
    ['POST', '/collections/refuse/shards/0/snapshots', undefined],
    ['POST', '/collections/refuse/points/search/matrix/pairs', { sample: 10, limit: 2 }],
    [
      'PUT',
      '/collections/multi_refused',
      { vectors: { size: 2, distance: 'Dot', multivector_config: { comparator: 'max_sim' } } },
    ],
    [
      'PUT',
      '/collections/custom_refused',
      { vectors: { size: 2, distance: 'Dot' }, sharding_method: 'custom' },
    ],
    [
      'POST',
      '/collections/refuse/points/query',
      { query: [1, 0], params: { quantization: { rescore: true } } },
    ],
  ])('%s %s answers 400 naming the emulator', async (method, path, body) => {
    const res = await call(method, path, body);
    expect(res.status).toBe(400);
    expect(res.body.status.error).toMatch(/^Bad request: .* not supported by the Qdrant emulator$/);
  });

  it('creates nothing when it refuses a collection', async () => {
    await expect(client.collectionExists('multi_refused')).resolves.toEqual({ exists: false });
    await expect(client.collectionExists('custom_refused')).resolves.toEqual({ exists: false });
  });
});
