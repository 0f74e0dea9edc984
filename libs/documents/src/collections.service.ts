import { Injectable } from '@nestjs/common';
import { Collection, DbService } from '@quarry/db';
import { badInput, conflict, notFound } from './domain-errors';

export interface CollectionInput {
  name: string;
  description?: string | null;
}

/** Collections group one owner's documents. Another owner's collection does not exist. */
@Injectable()
export class CollectionsService {
  constructor(private readonly db: DbService) {}

  async create(ownerId: string, input: CollectionInput): Promise<Collection> {
    const repo = this.db.repo(Collection);
    return repo.save(
      repo.create({ ownerId, name: checkName(input.name), description: input.description ?? null }),
    );
  }

  list(ownerId: string): Promise<Collection[]> {
    return this.db.read((m) =>
      m.getRepository(Collection).find({ where: { ownerId }, order: { createdAt: 'ASC' } }),
    );
  }

  async get(ownerId: string, id: string): Promise<Collection> {
    const found = await this.db.read((m) =>
      m.getRepository(Collection).findOne({ where: { id, ownerId } }),
    );
    if (!found) throw notFound('collection', id);
    return found;
  }

  async update(ownerId: string, id: string, input: Partial<CollectionInput>): Promise<Collection> {
    const collection = await this.get(ownerId, id);
    if (input.name !== undefined) collection.name = checkName(input.name);
    if (input.description !== undefined) collection.description = input.description;
    return this.db.repo(Collection).save(collection);
  }

  /** Refuses while live documents remain; tombstones of deleted ones go with it. */
  async remove(ownerId: string, id: string): Promise<void> {
    await this.db.transaction(async (m) => {
      const rows: { id: string }[] = await m.query(
        `SELECT id FROM collections WHERE id = $1 AND owner_id = $2 FOR UPDATE`,
        [id, ownerId],
      );
      if (rows.length === 0) throw notFound('collection', id);
      const [{ count }]: { count: number }[] = await m.query(
        `SELECT count(*)::int AS count FROM documents WHERE collection_id = $1 AND status <> 'deleted'`,
        [id],
      );
      if (count > 0) {
        throw conflict(
          `collection ${id} still holds ${count} document(s); delete them first or use ?cascade=true`,
          { document_count: count },
        );
      }
      await m.query(`DELETE FROM documents WHERE collection_id = $1 AND status = 'deleted'`, [id]);
      await m.query(`DELETE FROM collections WHERE id = $1`, [id]);
    });
  }
}

function checkName(name: string | undefined): string {
  const trimmed = name?.trim() ?? '';
  if (trimmed.length === 0 || trimmed.length > 200) throw badInput('name must be 1–200 characters');
  return trimmed;
}
