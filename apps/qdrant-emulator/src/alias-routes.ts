import { AliasAction } from './alias-store';
import { CollectionRegistry } from './collection-registry';
import { Router } from './http-router';
import { expectArray, expectObject, isObject, JsonValue } from './json-value';
import { QdrantError } from './qdrant-error';

const UNTAGGED = 'data did not match any variant of untagged enum AliasOperations';

function field(body: JsonValue, key: string): string {
  if (!isObject(body) || typeof body[key] !== 'string') throw QdrantError.format(UNTAGGED);
  return body[key];
}

/** One entry of `actions`: exactly one of `create_alias`, `delete_alias`, `rename_alias`. */
function parseAction(raw: JsonValue): AliasAction {
  if (!isObject(raw)) throw QdrantError.format(UNTAGGED);
  if ('create_alias' in raw) {
    const body = raw.create_alias;
    return {
      kind: 'create',
      alias: field(body, 'alias_name'),
      collection: field(body, 'collection_name'),
    };
  }
  if ('delete_alias' in raw)
    return { kind: 'delete', alias: field(raw.delete_alias, 'alias_name') };
  if ('rename_alias' in raw) {
    const body = raw.rename_alias;
    return {
      kind: 'rename',
      alias: field(body, 'old_alias_name'),
      newAlias: field(body, 'new_alias_name'),
    };
  }
  throw QdrantError.format(UNTAGGED);
}

export function registerAliasRoutes(router: Router, registry: CollectionRegistry): void {
  router.add('POST', '/collections/aliases', async (ctx) => {
    const body = expectObject(ctx.json(), 'struct ChangeAliasesOperation');
    if (body.actions === undefined) throw QdrantError.format('missing field `actions`');
    const actions = expectArray(body.actions).map(parseAction);
    await registry.updateAliases(actions);
    return true;
  });

  router.add('GET', '/aliases', () => ({ aliases: registry.aliases.list() }));

  router.add('GET', '/collections/{name}/aliases', ({ params }) => {
    registry.get(params[0]);
    return { aliases: registry.aliases.list(params[0]) };
  });
}
