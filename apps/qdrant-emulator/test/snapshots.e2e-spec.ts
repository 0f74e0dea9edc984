import { openFixture, QdrantFixture } from './qdrant-fixture';

describe('collection snapshots', () => {
  let q: QdrantFixture;

  beforeAll(async () => {
    q = await openFixture();
  });

  afterAll(async () => {
    await q.close();
  });

  afterEach(() => {
    expect(q.proxy.violations.splice(0)).toEqual([]);
  });

  it('creates, lists, downloads, recovers from an upload and from a location, and deletes snapshots', async () => {
    const name = q.collectionName('snap');
    await q.client.createCollection(name, { vectors: { size: 3, distance: 'Cosine' } });
    await q.client.createPayloadIndex(name, {
      field_name: 'doc',
      field_schema: 'keyword',
      wait: true,
    });
    await q.client.upsert(name, {
      wait: true,
      points: [
        { id: 1, vector: [1, 0, 0], payload: { doc: 'a' } },
        { id: 'a3c1e8f2-5b4d-4e6f-8a9b-0c1d2e3f4a5b', vector: [0, 1, 0], payload: { doc: 'b' } },
      ],
    });
    const snapshot = await q.client.createSnapshot(name, { wait: true });
    expect(snapshot?.name).toMatch(/\.snapshot$/);
    expect(snapshot?.size).toBeGreaterThan(0);
    const listed = await q.client.listSnapshots(name);
    expect(listed.map((s) => s.name)).toContain(snapshot?.name);

    const download = await fetch(`${q.url}/collections/${name}/snapshots/${snapshot?.name}`);
    expect(download.status).toBe(200);
    const bytes = Buffer.from(await download.arrayBuffer());
    expect(bytes.length).toBe(snapshot?.size);

    // Changes after the snapshot are undone by recovering it.
    await q.client.delete(name, { wait: true, points: [1] });

    const restored = q.collectionName('restored');
    const form = new FormData();
    form.append('snapshot', new Blob([bytes]), snapshot?.name ?? 'x.snapshot');
    const upload = await fetch(`${q.url}/collections/${restored}/snapshots/upload?wait=true`, {
      method: 'POST',
      body: form,
    });
    expect(upload.status).toBe(200);
    await expect(upload.json()).resolves.toMatchObject({ result: true, status: 'ok' });
    const points = await q.client.scroll(restored, { with_vector: true });
    expect(points.points.map((p) => [p.id, p.payload?.doc])).toEqual([
      [1, 'a'],
      ['a3c1e8f2-5b4d-4e6f-8a9b-0c1d2e3f4a5b', 'b'],
    ]);
    expect(points.points[0].vector).toEqual([1, 0, 0]);
    const info = await q.client.getCollection(restored);
    expect(info.config.params.vectors).toMatchObject({ size: 3, distance: 'Cosine' });
    expect(Object.keys(info.payload_schema)).toEqual(['doc']);

    await expect(
      q.client.recoverSnapshot(name, {
        location: `${process.env.QDRANT_URL}/collections/${name}/snapshots/${snapshot?.name}`,
      }),
    ).resolves.toBe(true);
    await expect(q.client.count(name, { exact: true })).resolves.toEqual({ count: 2 });

    await expect(q.client.deleteSnapshot(name, snapshot?.name ?? '')).resolves.toBe(true);
    const after = await q.client.listSnapshots(name);
    expect(after.map((s) => s.name)).not.toContain(snapshot?.name);
  });

  it('answers 404 for snapshots of a missing collection', async () => {
    const res = await q.raw('GET', '/collections/no_such_collection_77/snapshots');
    expect(res.status).toBe(404);
    expect(res.body.status.error).toBe(
      "Not found: Collection `no_such_collection_77` doesn't exist!",
    );
  });

  const waitFor = async <T>(probe: () => Promise<T | undefined>): Promise<T> => {
    for (let i = 0; i < 200; i++) {
      const value = await probe();
      if (value !== undefined) return value;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('condition not met within 10 s');
  };

  it('accepts wait=false with a 202 and finishes in the background', async () => {
    const name = q.collectionName('snapwait');
    await q.client.createCollection(name, { vectors: { size: 2, distance: 'Dot' } });
    const accepted = await q.raw('POST', `/collections/${name}/snapshots?wait=false`);
    expect(accepted.status).toBe(202);
    expect(accepted.body.status).toBe('accepted');
    const made = await waitFor(async () => (await q.client.listSnapshots(name))[0]);
    expect(made.name).toMatch(/\.snapshot$/);
    const deleting = await q.raw(
      'DELETE',
      `/collections/${name}/snapshots/${made.name}?wait=false`,
    );
    expect(deleting.status).toBe(202);
    await waitFor(async () =>
      (await q.client.listSnapshots(name)).length === 0 ? true : undefined,
    );
  });

  it('creates, lists, downloads and deletes full-storage snapshots', async () => {
    const name = q.collectionName('snapfull');
    await q.client.createCollection(name, { vectors: { size: 2, distance: 'Dot' } });
    const created = await q.raw('POST', '/snapshots?wait=true');
    expect(created.status).toBe(200);
    const full = created.body.result;
    expect(full.name).toMatch(/\.snapshot$/);
    expect(full.size).toBeGreaterThan(0);
    const listed = await q.raw('GET', '/snapshots');
    expect(listed.body.result.map((s: { name: string }) => s.name)).toContain(full.name);
    const download = await fetch(`${q.url}/snapshots/${full.name}`);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).length).toBe(full.size);
    const deleted = await q.raw('DELETE', `/snapshots/${full.name}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.result).toBe(true);
    const after = await q.raw('GET', '/snapshots');
    expect(after.body.result.map((s: { name: string }) => s.name)).not.toContain(full.name);
  });

  it('refuses snapshot names that leave the snapshots directory', async () => {
    const name = q.collectionName('snapdots');
    await q.client.createCollection(name, { vectors: { size: 2, distance: 'Dot' } });
    await q.client.createSnapshot(name, { wait: true });
    const escapes = [
      `/collections/${name}/snapshots/..%2F..%2Fcollections%2F${name}.snapshot`,
      `/collections/${name}/snapshots/..%2F${name}.snapshot`,
      '/snapshots/..%2F..%2Fetc%2Fpasswd.snapshot',
    ];
    for (const path of escapes) {
      const download = await q.raw('GET', path);
      expect(download.status).toBe(404);
      const removal = await q.raw('DELETE', path);
      expect(removal.status).toBe(404);
    }
    expect(await q.client.listSnapshots(name)).toHaveLength(1);
  });

  it('refuses to recover from a file:// location outside the snapshots directory', async () => {
    const name = q.collectionName('snapfile');
    await q.client.createCollection(name, { vectors: { size: 2, distance: 'Dot' } });
    await q.client.upsert(name, { wait: true, points: [{ id: 1, vector: [1, 0] }] });
    const res = await q.raw('PUT', `/collections/${name}/snapshots/recover`, {
      location: 'file:///etc/passwd',
    });
    expect(res.status).toBe(400);
    expect(typeof res.body.status.error).toBe('string');
    await expect(q.client.count(name, { exact: true })).resolves.toEqual({ count: 1 });
  });
});
