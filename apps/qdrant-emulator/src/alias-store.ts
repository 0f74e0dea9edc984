import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileDurably } from './write-ahead-log';

export interface AliasDescription {
  alias_name: string;
  collection_name: string;
}

export type AliasAction =
  | { kind: 'create'; alias: string; collection: string }
  | { kind: 'delete'; alias: string }
  | { kind: 'rename'; alias: string; newAlias: string };

/**
 * Alias → collection names, kept in one JSON file next to the collections (as Qdrant's
 * `aliases/data.json`). Every change is written durably before it is answered.
 */
export class AliasStore {
  private readonly file: string;
  private mapping = new Map<string, string>();
  private writing: Promise<void> = Promise.resolve();

  constructor(storageDir: string) {
    this.file = path.join(storageDir, 'aliases.json');
  }

  load(): void {
    if (!fs.existsSync(this.file)) return;
    const stored = JSON.parse(fs.readFileSync(this.file, 'utf8')) as Record<string, string>;
    this.mapping = new Map(Object.entries(stored));
  }

  target(alias: string): string | undefined {
    return this.mapping.get(alias);
  }

  has(alias: string): boolean {
    return this.mapping.has(alias);
  }

  list(collection?: string): AliasDescription[] {
    return [...this.mapping]
      .filter(([, target]) => collection === undefined || target === collection)
      .map(([alias_name, collection_name]) => ({ alias_name, collection_name }))
      .sort((a, b) => a.alias_name.localeCompare(b.alias_name));
  }

  /** A copy to change; `replace` installs it, so readers never see half of a multi-action switch. */
  draft(): Map<string, string> {
    return new Map(this.mapping);
  }

  /** Installs a new mapping at once; writes are chained so two never share the temporary file. */
  replace(next: Map<string, string>): Promise<void> {
    this.mapping = next;
    const data = Buffer.from(JSON.stringify(Object.fromEntries(next)));
    this.writing = this.writing
      .catch(() => undefined)
      .then(() => writeFileDurably(this.file, data));
    return this.writing;
  }

  /** Drops every alias of a deleted collection, as Qdrant does. */
  async removeCollection(collection: string): Promise<void> {
    const next = this.draft();
    for (const [alias, target] of next) if (target === collection) next.delete(alias);
    if (next.size !== this.mapping.size) await this.replace(next);
  }
}
