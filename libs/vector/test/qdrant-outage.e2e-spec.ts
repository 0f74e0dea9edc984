import { spawnQdrantEmulator, SpawnedQdrant } from '@quarry/testing';
import { pointIdFor, QdrantGateway, VectorStoreUnavailableError } from '@quarry/vector';
import { randomUUID } from 'node:crypto';

/**
 * What the gateway does while Qdrant is down and when it comes back. This needs a server
 * it can kill, so it always runs its own emulator process, whatever QDRANT_URL says.
 */
describe('QdrantGateway across a Qdrant outage', () => {
  let qdrant: SpawnedQdrant;
  const collection = `quarry_e2e_outage_${process.pid}`;
  const documentId = randomUUID();

  function gateway(attempts: number): QdrantGateway {
    return new QdrantGateway({
      url: qdrant.url,
      collection,
      dimension: 4,
      timeoutMs: 2_000,
      retry: { attempts, baseDelayMs: 100, maxDelayMs: 500 },
    });
  }

  beforeAll(async () => {
    qdrant = await spawnQdrantEmulator();
    const setup = gateway(1);
    await setup.bootstrap();
    await setup.upsertChunks(
      Array.from({ length: 50 }, (_, ordinal) => ({
        id: pointIdFor(documentId, 1, ordinal),
        vector: [1, ordinal, 0, 0],
        payload: {
          document_id: documentId,
          owner_id: 'o',
          collection_id: 'c',
          generation: 1,
          ordinal,
        },
      })),
    );
    await setup.close();
  });

  afterAll(async () => {
    await qdrant.stop();
  });

  it('reports Qdrant unavailable after its retries, and the probe fails fast', async () => {
    await qdrant.kill('SIGKILL');
    const impatient = gateway(2);

    const error = await impatient.countByDocument(documentId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VectorStoreUnavailableError);
    expect((error as VectorStoreUnavailableError).attempts).toBe(2);
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
    await expect(impatient.ping()).rejects.toBeInstanceOf(VectorStoreUnavailableError);
    await impatient.close();
  });

  it('rides out a restart by retrying, and finds every acknowledged point', async () => {
    // still down from the previous test (or killed now if run alone)
    await qdrant.kill('SIGKILL');
    const patient = gateway(20);
    const counting = patient.countByDocument(documentId);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await qdrant.restart();

    await expect(counting).resolves.toBe(50);
    await expect(patient.ping()).resolves.toBeUndefined();
    await patient.close();
  });
});
