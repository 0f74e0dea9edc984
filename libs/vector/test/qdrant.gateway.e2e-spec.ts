import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  ChunkPoint,
  pointIdFor,
  QdrantGateway,
  StoredPoint,
  VectorCollectionMismatchError,
  VectorModuleOptions,
  VectorStoreRequestError,
} from '@quarry/vector';
import { gatewayOptions as options, TEST_DIM as DIM, testRun as run } from './live-qdrant';

/**
 * Runs against whatever QDRANT_URL names: the emulator the integration tier starts, or a
 * real Qdrant (QDRANT_URL=http://host:6333 [QDRANT_API_KEY=...] npx jest libs/vector).
 * Only client calls are used, so both must behave the same.
 */

/** A unit vector pointing mostly along `axis`, with a small deterministic tilt. */
function vectorNear(axis: number, tilt = 0): number[] {
  const v = Array.from({ length: DIM }, (_, i): number => (i === axis ? 1 : 0));
  v[(axis + 1) % DIM] = tilt;
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

interface ChunkSpec {
  documentId: string;
  ownerId: string;
  collectionId: string;
  generation: number;
  count: number;
  axis?: number;
}

function chunks(spec: ChunkSpec): ChunkPoint[] {
  return Array.from({ length: spec.count }, (_, ordinal) => ({
    id: pointIdFor(spec.documentId, spec.generation, ordinal),
    vector: new Float32Array(vectorNear(spec.axis ?? 0, ordinal / 100)),
    payload: {
      document_id: spec.documentId,
      owner_id: spec.ownerId,
      collection_id: spec.collectionId,
      generation: spec.generation,
      ordinal,
    },
  }));
}

async function collect(pages: AsyncGenerator<StoredPoint[]>): Promise<StoredPoint[][]> {
  const all: StoredPoint[][] = [];
  for await (const page of pages) all.push(page);
  return all;
}

describe('QdrantGateway against Qdrant', () => {
  const gateways: QdrantGateway[] = [];
  const collections = new Set<string>();

  function gatewayFor(collection: string, extra: Partial<VectorModuleOptions> = {}) {
    collections.add(collection);
    const gateway = new QdrantGateway(options(collection, extra));
    gateways.push(gateway);
    return gateway;
  }

  afterAll(async () => {
    for (const name of collections) {
      const cleaner = new QdrantGateway(options(name));
      await cleaner.deleteCollection();
      await cleaner.close();
    }
    await Promise.all(gateways.map((g) => g.close()));
  });

  describe('bootstrap', () => {
    const name = `quarry_e2e_boot_${run}`;

    it('creates the collection with cosine vectors and the payload indexes', async () => {
      const gateway = gatewayFor(name);
      await expect(gateway.collectionInfo()).resolves.toMatchObject({ exists: false });

      const info = await gateway.bootstrap();
      expect(info).toMatchObject({
        name,
        exists: true,
        dimension: DIM,
        distance: 'Cosine',
        pointsCount: 0,
      });
      expect(info.payloadIndexes).toEqual({
        document_id: 'keyword',
        owner_id: 'keyword',
        collection_id: 'keyword',
        generation: 'integer',
      });
    });

    it('is idempotent and keeps the points', async () => {
      const gateway = gatewayFor(name);
      const documentId = randomUUID();
      await gateway.upsertChunks(
        chunks({ documentId, ownerId: 'o', collectionId: 'c', generation: 1, count: 3 }),
      );
      const again = await gateway.bootstrap();
      expect(again).toMatchObject({ exists: true, dimension: DIM, distance: 'Cosine' });
      expect(Object.keys(again.payloadIndexes).sort()).toEqual([
        'collection_id',
        'document_id',
        'generation',
        'owner_id',
      ]);
      await expect(gateway.countByDocument(documentId)).resolves.toBe(3);
    });

    it('is safe when several processes bootstrap a new collection at once', async () => {
      const fresh = `quarry_e2e_race_${run}`;
      const racers = [gatewayFor(fresh), gatewayFor(fresh), gatewayFor(fresh)];
      const results = await Promise.all(racers.map((g) => g.bootstrap()));
      for (const info of results) {
        expect(info).toMatchObject({ exists: true, dimension: DIM, distance: 'Cosine' });
      }
    });

    it('refuses a collection of another dimension, saying what to do', async () => {
      const wrong = gatewayFor(name, { dimension: DIM * 2 });
      const error = await wrong.bootstrap().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VectorCollectionMismatchError);
      const message = (error as Error).message;
      expect(message).toContain(`"${name}" has dimension ${DIM} with Cosine distance`);
      expect(message).toContain(`expects dimension ${DIM * 2}`);
      expect(message).toContain(`set EMBEDDING_DIM=${DIM}`);
      expect(message).toContain('QDRANT_COLLECTION');
      // and left the collection as it was
      await expect(gatewayFor(name).collectionInfo()).resolves.toMatchObject({ dimension: DIM });
    });
  });

  describe('points', () => {
    const name = `quarry_e2e_points_${run}`;
    let gateway: QdrantGateway;

    beforeAll(async () => {
      gateway = gatewayFor(name);
      await gateway.bootstrap();
    });

    it('answers queries only with the asking owner’s points', async () => {
      const [ownerA, ownerB] = [randomUUID(), randomUUID()];
      const [docA, docA2, docB] = [randomUUID(), randomUUID(), randomUUID()];
      const [colA, colA2, colB] = [randomUUID(), randomUUID(), randomUUID()];
      await gateway.upsertChunks([
        ...chunks({
          documentId: docA,
          ownerId: ownerA,
          collectionId: colA,
          generation: 1,
          count: 4,
        }),
        ...chunks({
          documentId: docA2,
          ownerId: ownerA,
          collectionId: colA2,
          generation: 1,
          count: 2,
        }),
        // owner B's points are exactly as close to the query as A's
        ...chunks({
          documentId: docB,
          ownerId: ownerB,
          collectionId: colB,
          generation: 1,
          count: 4,
        }),
      ]);

      const hits = await gateway.query({ vector: vectorNear(0), ownerId: ownerA, limit: 50 });
      expect(hits).toHaveLength(6);
      expect(new Set(hits.map((h) => h.payload.owner_id))).toEqual(new Set([ownerA]));
      const scores = hits.map((h) => h.score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
      expect(hits[0].score).toBeGreaterThan(0.99);

      const inCollection = await gateway.query({
        vector: vectorNear(0),
        ownerId: ownerA,
        collectionIds: [colA2],
        limit: 50,
      });
      expect(inCollection.map((h) => h.payload.document_id)).toEqual([docA2, docA2]);

      const inDocument = await gateway.query({
        vector: vectorNear(0),
        ownerId: ownerA,
        documentIds: [docA],
        limit: 2,
        offset: 1,
      });
      expect(inDocument).toHaveLength(2);
      expect(inDocument.every((h) => h.payload.document_id === docA)).toBe(true);

      const otherOwnerCollection = await gateway.query({
        vector: vectorNear(0),
        ownerId: ownerA,
        collectionIds: [colB],
        limit: 50,
      });
      expect(otherOwnerCollection).toEqual([]);

      // the same ranking and filters without payloads
      const ids = await gateway.queryIds({ vector: vectorNear(0), ownerId: ownerA, limit: 50 });
      expect(ids).toEqual(hits.map(({ id, score }) => ({ id, score })));
      const idsInCollection = await gateway.queryIds({
        vector: vectorNear(0),
        ownerId: ownerA,
        collectionIds: [colA2],
        limit: 50,
      });
      expect(idsInCollection.map((h) => h.id)).toEqual(inCollection.map((h) => h.id));
      await expect(
        gateway.queryIds({ vector: vectorNear(0), ownerId: '', limit: 5 }),
      ).rejects.toThrow(/ownerId/);
    });

    it('applies the score threshold as a lower bound', async () => {
      const owner = randomUUID();
      const near = randomUUID();
      const far = randomUUID();
      await gateway.upsertChunks([
        ...chunks({
          documentId: near,
          ownerId: owner,
          collectionId: 'c',
          generation: 1,
          count: 2,
          axis: 3,
        }),
        ...chunks({
          documentId: far,
          ownerId: owner,
          collectionId: 'c',
          generation: 1,
          count: 2,
          axis: 5,
        }),
      ]);
      const hits = await gateway.query({
        vector: vectorNear(3),
        ownerId: owner,
        limit: 10,
        scoreThreshold: 0.5,
      });
      expect(hits.map((h) => h.payload.document_id)).toEqual([near, near]);
      expect(hits.every((h) => h.score >= 0.5)).toBe(true);
    });

    it('overwrites instead of duplicating when the same chunks are written again', async () => {
      const documentId = randomUUID();
      const owner = randomUUID();
      const first = chunks({
        documentId,
        ownerId: owner,
        collectionId: 'c',
        generation: 2,
        count: 5,
      });
      await gateway.upsertChunks(first, { batchSize: 2 });
      // a retried job writes the same ids again, here with different vectors
      const retried = chunks({
        documentId,
        ownerId: owner,
        collectionId: 'c',
        generation: 2,
        count: 5,
        axis: 6,
      });
      await gateway.upsertChunks(retried, { batchSize: 3 });

      await expect(gateway.countByDocument(documentId)).resolves.toBe(5);
      const hits = await gateway.query({ vector: vectorNear(6), ownerId: owner, limit: 10 });
      expect(hits).toHaveLength(5);
      expect(hits[0].score).toBeGreaterThan(0.99);
      expect(new Set(hits.map((h) => h.id))).toEqual(new Set(first.map((p) => p.id)));
    });

    it('deletes a document’s points by generation, by all-but-one generation, and entirely', async () => {
      const documentId = randomUUID();
      const spec = { documentId, ownerId: 'o', collectionId: 'c' };
      await gateway.upsertChunks([
        ...chunks({ ...spec, generation: 1, count: 3 }),
        ...chunks({ ...spec, generation: 2, count: 4 }),
        ...chunks({ ...spec, generation: 3, count: 5 }),
      ]);
      const bystander = randomUUID();
      await gateway.upsertChunks(
        chunks({ ...spec, documentId: bystander, generation: 1, count: 2 }),
      );

      await expect(gateway.countByDocument(documentId)).resolves.toBe(12);
      await expect(gateway.countByDocument(documentId, { generation: 2 })).resolves.toBe(4);

      await gateway.deleteByDocument(documentId, { generation: 1 });
      await expect(gateway.countByDocument(documentId)).resolves.toBe(9);

      await gateway.deleteByDocument(documentId, { exceptGeneration: 3 });
      await expect(gateway.countByDocument(documentId)).resolves.toBe(5);
      await expect(gateway.countByDocument(documentId, { generation: 3 })).resolves.toBe(5);

      await gateway.deleteByDocument(documentId);
      await expect(gateway.countByDocument(documentId)).resolves.toBe(0);
      await expect(gateway.countByDocument(bystander)).resolves.toBe(2);

      // deleting what is already gone is fine (cleanup is retried)
      await expect(gateway.deleteByDocument(documentId)).resolves.toBeUndefined();
    });

    it('retrieves and deletes points by id', async () => {
      const documentId = randomUUID();
      const points = chunks({
        documentId,
        ownerId: 'o',
        collectionId: 'c',
        generation: 1,
        count: 3,
      });
      await gateway.upsertChunks(points);
      const missing = pointIdFor(documentId, 9, 0);

      const found = await gateway.retrieve([points[0].id, missing, points[2].id]);
      expect(found.map((p) => p.id).sort()).toEqual([points[0].id, points[2].id].sort());
      expect(found.find((p) => p.id === points[2].id)?.payload).toEqual(points[2].payload);

      await gateway.deletePoints([points[0].id, points[1].id]);
      await expect(gateway.countByDocument(documentId)).resolves.toBe(1);
      await expect(gateway.retrieve([])).resolves.toEqual([]);
    });

    it('rejects a vector of the wrong dimension with Qdrant’s message', async () => {
      const error = await gateway
        .upsertChunks([
          {
            id: randomUUID(),
            vector: [1, 0, 0],
            payload: {
              document_id: 'd',
              owner_id: 'o',
              collection_id: 'c',
              generation: 1,
              ordinal: 0,
            },
          },
        ])
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VectorStoreRequestError);
      expect((error as VectorStoreRequestError).statusCode).toBe(400);
      expect((error as VectorStoreRequestError).qdrantMessage).toMatch(/dimension/i);
    });

    it('answers ping', async () => {
      await expect(gateway.ping()).resolves.toBeUndefined();
    });
  });

  describe('scroll, count and snapshots', () => {
    const name = `quarry_e2e_scroll_${run}`;
    let gateway: QdrantGateway;
    const big = randomUUID();
    const small = randomUUID();

    beforeAll(async () => {
      gateway = gatewayFor(name);
      await gateway.bootstrap();
      await gateway.upsertChunks(
        chunks({ documentId: big, ownerId: 'o', collectionId: 'c', generation: 1, count: 1_050 }),
        { batchSize: 400 },
      );
      await gateway.upsertChunks(
        chunks({ documentId: small, ownerId: 'o', collectionId: 'c', generation: 1, count: 7 }),
      );
    });

    it('streams one document’s points in pages of the requested size', async () => {
      const pages = await collect(gateway.scrollDocumentPoints(big, { batchSize: 100 }));
      expect(pages.map((p) => p.length)).toEqual([...Array(10).fill(100), 50]);
      const ids = pages.flat().map((p) => p.id);
      expect(new Set(ids).size).toBe(1_050);
      const expected = new Set(Array.from({ length: 1_050 }, (_, i) => pointIdFor(big, 1, i)));
      expect(ids.every((id) => expected.has(id))).toBe(true);
      expect(pages.flat().every((p) => p.payload.document_id === big)).toBe(true);
    });

    it('streams the whole collection with payloads, never more than a page at a time', async () => {
      let total = 0;
      let largest = 0;
      const perDocument = new Map<string, number>();
      for await (const page of gateway.scrollAll({ batchSize: 256 })) {
        total += page.length;
        largest = Math.max(largest, page.length);
        for (const point of page) {
          perDocument.set(
            point.payload.document_id,
            (perDocument.get(point.payload.document_id) ?? 0) + 1,
          );
          expect(point.payload.generation).toBe(1);
        }
      }
      expect(total).toBe(1_057);
      expect(largest).toBe(256);
      expect(Object.fromEntries(perDocument)).toEqual({ [big]: 1_050, [small]: 7 });
    });

    it('counts by document and in total', async () => {
      await expect(gateway.countByDocument(big)).resolves.toBe(1_050);
      await expect(gateway.countByDocument(small)).resolves.toBe(7);
      await expect(gateway.countByDocument(randomUUID())).resolves.toBe(0);
      await expect(gateway.count()).resolves.toBe(1_057);
      await expect(gateway.count({ ownerId: 'o', generation: 1 })).resolves.toBe(1_057);
      await expect(gateway.collectionInfo()).resolves.toMatchObject({ pointsCount: 1_057 });
    });

    it('creates a snapshot that the collection lists', async () => {
      const snapshot = await gateway.createSnapshot();
      expect(snapshot).toMatch(/\S/);
      const listed = await gateway.listSnapshots();
      const entry = listed.find((s) => s.name === snapshot);
      expect(entry).toBeDefined();
      expect(entry?.size).toBeGreaterThan(0);
      await expect(gateway.deleteSnapshot(snapshot)).resolves.toBe(true);
      expect((await gateway.listSnapshots()).some((s) => s.name === snapshot)).toBe(false);
    });

    it('downloads a snapshot and restores the collection from the file', async () => {
      const restore = gatewayFor(`quarry_e2e_restore_${run}`);
      await restore.bootstrap();
      const kept = randomUUID();
      const later = randomUUID();
      await restore.upsertChunks(
        chunks({ documentId: kept, ownerId: 'o', collectionId: 'c', generation: 1, count: 30 }),
      );
      const name = await restore.createSnapshot();
      const file = join(mkdtempSync(join(tmpdir(), 'quarry-snap-')), 'backup.snapshot');
      try {
        const downloaded = await restore.downloadSnapshot(name, file);
        const listed = (await restore.listSnapshots()).find((s) => s.name === name);
        expect(downloaded.bytes).toBe(statSync(file).size);
        expect(downloaded.bytes).toBe(listed?.size);
        expect(downloaded.sha256).toBe(
          createHash('sha256').update(readFileSync(file)).digest('hex'),
        );
        if (listed?.checksum) expect(downloaded.sha256).toBe(listed.checksum);

        await restore.upsertChunks(
          chunks({ documentId: later, ownerId: 'o', collectionId: 'c', generation: 1, count: 5 }),
        );
        await expect(restore.count()).resolves.toBe(35);

        await expect(
          restore.recoverFromSnapshotFile(file, { checksum: '0'.repeat(64) }),
        ).rejects.toBeInstanceOf(VectorStoreRequestError);
        await expect(
          restore.recoverFromSnapshotFile(file, { checksum: downloaded.sha256 }),
        ).resolves.toBe(true);
        await expect(restore.countByDocument(kept)).resolves.toBe(30);
        await expect(restore.countByDocument(later)).resolves.toBe(0);
        await expect(restore.bootstrap()).resolves.toMatchObject({ pointsCount: 30 });
      } finally {
        await restore.deleteSnapshot(name);
        rmSync(dirname(file), { recursive: true, force: true });
      }
    });

    it('drops the collection on a hard reset', async () => {
      const scratch = gatewayFor(`quarry_e2e_drop_${run}`);
      await scratch.bootstrap();
      await expect(scratch.deleteCollection()).resolves.toBe(true);
      await expect(scratch.collectionInfo()).resolves.toMatchObject({ exists: false });
      await expect(scratch.deleteCollection()).resolves.toBe(false);
    });
  });
});
