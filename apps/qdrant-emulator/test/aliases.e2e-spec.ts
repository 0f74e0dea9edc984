import { randomBytes } from 'node:crypto';
import { QdrantFixture, useQdrantFixture } from './qdrant-fixture';

describe('collection aliases', () => {
  const fixture = useQdrantFixture();
  let q: QdrantFixture;
  beforeAll(() => {
    q = fixture();
  });
  let blue: string;
  let green: string;
  let alias: string;

  beforeEach(async () => {
    blue = q.collectionName('blue');
    green = q.collectionName('green');
    alias = `live_${randomBytes(4).toString('hex')}`;
    for (const [name, x] of [
      [blue, 1],
      [green, 2],
    ] as const) {
      await q.client.createCollection(name, { vectors: { size: 2, distance: 'Dot' } });
      await q.client.upsert(name, {
        wait: true,
        points: [{ id: x, vector: [x, 0], payload: { side: name } }],
      });
    }
  });

  const aliasesOf = async (collection?: string) => {
    const { aliases } = collection
      ? await q.client.getCollectionAliases(collection)
      : await q.client.getAliases();
    return aliases
      .filter((a) => a.alias_name === alias || a.alias_name.startsWith(`${alias}_`))
      .sort((a, b) => a.alias_name.localeCompare(b.alias_name));
  };

  it('creates an alias that answers wherever a collection name is accepted', async () => {
    await expect(
      q.client.updateCollectionAliases({
        actions: [{ create_alias: { collection_name: blue, alias_name: alias } }],
      }),
    ).resolves.toBe(true);
    await expect(aliasesOf()).resolves.toEqual([{ alias_name: alias, collection_name: blue }]);
    await expect(aliasesOf(blue)).resolves.toEqual([{ alias_name: alias, collection_name: blue }]);
    await expect(aliasesOf(green)).resolves.toEqual([]);

    const info = await q.client.getCollection(alias);
    expect(info.points_count).toBe(1);
    await expect(q.client.collectionExists(alias)).resolves.toEqual({ exists: true });
    await expect(q.client.count(alias, { exact: true })).resolves.toEqual({ count: 1 });
    const scrolled = await q.client.scroll(alias, { with_payload: true });
    expect(scrolled.points.map((p) => p.payload?.side)).toEqual([blue]);
    const found = await q.client.query(alias, { query: [1, 0], with_payload: true });
    expect(found.points.map((p) => p.id)).toEqual([1]);
    await expect(q.client.retrieve(alias, { ids: [1] })).resolves.toHaveLength(1);

    // Writes through the alias land in the collection.
    await q.client.upsert(alias, { wait: true, points: [{ id: 7, vector: [0, 1] }] });
    await expect(q.client.count(blue, { exact: true })).resolves.toEqual({ count: 2 });
    await q.client.delete(alias, { wait: true, points: [7] });
    await expect(q.client.count(blue, { exact: true })).resolves.toEqual({ count: 1 });
  });

  it('switches an alias to another collection in one request', async () => {
    await q.client.updateCollectionAliases({
      actions: [{ create_alias: { collection_name: blue, alias_name: alias } }],
    });
    await q.client.updateCollectionAliases({
      actions: [
        { delete_alias: { alias_name: alias } },
        { create_alias: { collection_name: green, alias_name: alias } },
      ],
    });
    await expect(aliasesOf()).resolves.toEqual([{ alias_name: alias, collection_name: green }]);
    const scrolled = await q.client.scroll(alias, { with_payload: true });
    expect(scrolled.points.map((p) => p.payload?.side)).toEqual([green]);
    // Creating an alias that exists moves it too.
    await q.client.updateCollectionAliases({
      actions: [{ create_alias: { collection_name: blue, alias_name: alias } }],
    });
    await expect(aliasesOf()).resolves.toEqual([{ alias_name: alias, collection_name: blue }]);
  });

  it('renames an alias and deletes one, and deleting a missing alias is not an error', async () => {
    const renamed = `${alias}_next`;
    await q.client.updateCollectionAliases({
      actions: [{ create_alias: { collection_name: blue, alias_name: alias } }],
    });
    await q.client.updateCollectionAliases({
      actions: [{ rename_alias: { old_alias_name: alias, new_alias_name: renamed } }],
    });
    await expect(aliasesOf()).resolves.toEqual([{ alias_name: renamed, collection_name: blue }]);
    const gone = await q.raw('POST', `/collections/${alias}/points/count`, { exact: true });
    expect(gone.status).toBe(404);
    expect(gone.body.status.error).toBe(`Not found: Collection \`${alias}\` doesn't exist!`);

    await expect(
      q.client.updateCollectionAliases({ actions: [{ delete_alias: { alias_name: renamed } }] }),
    ).resolves.toBe(true);
    await expect(aliasesOf()).resolves.toEqual([]);
    await expect(
      q.client.updateCollectionAliases({ actions: [{ delete_alias: { alias_name: renamed } }] }),
    ).resolves.toBe(true);
  });

  it("answers Qdrant's errors and leaves the aliases as they were", async () => {
    await q.client.updateCollectionAliases({
      actions: [{ create_alias: { collection_name: blue, alias_name: alias } }],
    });
    const renameMissing = await q.raw('POST', '/collections/aliases', {
      actions: [
        { rename_alias: { old_alias_name: `${alias}_missing`, new_alias_name: `${alias}_x` } },
      ],
    });
    expect(renameMissing.status).toBe(404);
    expect(renameMissing.body.status.error).toBe(
      `Not found: Alias ${alias}_missing does not exists!`,
    );

    const toMissing = await q.raw('POST', '/collections/aliases', {
      actions: [
        { create_alias: { collection_name: `${alias}_nothing`, alias_name: `${alias}_y` } },
      ],
    });
    expect(toMissing.status).toBe(404);
    expect(toMissing.body.status.error).toBe(
      `Not found: Collection \`${alias}_nothing\` doesn't exist!`,
    );

    const shadow = await q.raw('POST', '/collections/aliases', {
      actions: [{ create_alias: { collection_name: blue, alias_name: green } }],
    });
    expect(shadow.status).toBe(409);
    expect(shadow.body.status.error).toBe(`Wrong input: Collection \`${green}\` already exists!`);

    const clash = await q.raw('PUT', `/collections/${alias}`, {
      vectors: { size: 2, distance: 'Dot' },
    });
    expect(clash.status).toBe(400);
    expect(clash.body.status.error).toBe(
      `Wrong input: Can't create collection with name ${alias}. Alias with the same name already exists`,
    );

    const malformed = await q.raw(
      'POST',
      '/collections/aliases',
      { actions: [{ move_alias: { alias_name: alias } }] },
      { invalidRequest: true },
    );
    expect(malformed.status).toBe(400);
    expect(malformed.body.status.error).toMatch(/^Format error in JSON body: /);
    await expect(aliasesOf()).resolves.toEqual([{ alias_name: alias, collection_name: blue }]);
  });

  it('drops the aliases of a deleted collection', async () => {
    await q.client.updateCollectionAliases({
      actions: [{ create_alias: { collection_name: blue, alias_name: alias } }],
    });
    // Deleting by the alias's name deletes nothing.
    await expect(q.client.deleteCollection(alias)).resolves.toBe(false);
    await expect(q.client.deleteCollection(blue)).resolves.toBe(true);
    await expect(aliasesOf()).resolves.toEqual([]);
    await expect(q.client.collectionExists(alias)).resolves.toEqual({ exists: false });
  });
});
