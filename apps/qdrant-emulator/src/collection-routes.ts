import { parseCreateCollection, validateCollectionPatch } from './collection-config';
import { CollectionRegistry } from './collection-registry';
import { Router } from './http-router';
import {
  expectObject,
  expectString,
  expectUint,
  invalidType,
  isObject,
  JsonObject,
} from './json-value';
import { parsePath } from './payload-path';
import { QdrantError } from './qdrant-error';
import { parseWait } from './request-parsing';

const FIELD_TYPES = ['keyword', 'integer', 'float', 'geo', 'text', 'bool', 'datetime', 'uuid'];

const INDEX_FLAGS = ['is_tenant', 'on_disk', 'is_principal', 'lookup', 'range', 'lowercase'];

/** The typed index params (`{type, is_tenant, on_disk, ...}`) as Qdrant checks them. */
function checkIndexParams(schema: JsonObject): void {
  for (const flag of INDEX_FLAGS) {
    const value = schema[flag];
    if (value !== undefined && value !== null && typeof value !== 'boolean')
      throw invalidType(value, 'a boolean');
  }
  if (schema.type === 'integer' && schema.lookup === false && schema.range === false) {
    throw QdrantError.wrongInput("the 'lookup' and 'range' capabilities can't be both disabled");
  }
  if (schema.type === 'text') {
    const tokenizers = ['prefix', 'whitespace', 'word', 'multilingual'];
    const tokenizer = schema.tokenizer;
    if (tokenizer !== undefined && tokenizer !== null && !tokenizers.includes(String(tokenizer))) {
      throw QdrantError.format(
        `unknown variant \`${String(tokenizer)}\`, expected one of ${tokenizers.map((t) => `\`${t}\``).join(', ')}`,
      );
    }
    for (const key of ['min_token_len', 'max_token_len']) {
      if (schema[key] !== undefined && schema[key] !== null) expectUint(schema[key]);
    }
  }
}

function validName(name: string): string {
  if (name.length === 0 || name.length > 255 || /[<>:"/\\|?*\0]/.test(name)) {
    throw QdrantError.validation(
      'collection_name',
      `collection name cannot contain "/" or be empty`,
    );
  }
  return name;
}

export function registerCollectionRoutes(router: Router, registry: CollectionRegistry): void {
  router.add('GET', '/collections', () => ({
    collections: registry.names().map((name) => ({ name })),
  }));

  router.add('GET', '/collections/{name}', ({ params }) => registry.get(params[0]).info());

  router.add('GET', '/collections/{name}/exists', ({ params }) => ({
    exists: registry.has(params[0]),
  }));

  router.add('PUT', '/collections/{name}', async (ctx) => {
    const name = validName(ctx.params[0]);
    const body = ctx.json();
    if (body === undefined)
      throw QdrantError.format('EOF while parsing a value at line 1 column 0');
    const config = parseCreateCollection(body);
    await registry.create(name, config);
    return true;
  });

  router.add('PATCH', '/collections/{name}', async (ctx) => {
    registry.get(ctx.params[0]);
    const patch = expectObject(ctx.json() ?? {}, 'struct UpdateCollection');
    validateCollectionPatch(patch);
    await registry.commit(ctx.params[0], [{ type: 'update_config', patch }], true);
    return true;
  });

  router.add('DELETE', '/collections/{name}', ({ params }) => registry.delete(params[0]));

  router.add('PUT', '/collections/{name}/index', async (ctx) => {
    registry.get(ctx.params[0]);
    const body = expectObject(ctx.json(), 'struct CreateFieldIndex');
    if (body.field_name === undefined) throw QdrantError.format('missing field `field_name`');
    const field = expectString(body.field_name);
    parsePath(field);
    const schema = body.field_schema ?? 'keyword';
    const type = typeof schema === 'string' ? schema : isObject(schema) ? schema.type : undefined;
    if (typeof type !== 'string' || !FIELD_TYPES.includes(type)) {
      throw QdrantError.format(
        `unknown variant \`${String(type)}\`, expected one of ${FIELD_TYPES.map((t) => `\`${t}\``).join(', ')}`,
      );
    }
    if (isObject(schema)) checkIndexParams(schema);
    const wait = parseWait(ctx.query);
    const [opId] = await registry.commit(
      ctx.params[0],
      [{ type: 'create_index', field, schema }],
      wait,
    );
    return { operation_id: opId, status: wait ? 'completed' : 'acknowledged' };
  });

  router.add('DELETE', '/collections/{name}/index/{field}', async (ctx) => {
    registry.get(ctx.params[0]);
    const wait = parseWait(ctx.query);
    const [opId] = await registry.commit(
      ctx.params[0],
      [{ type: 'delete_index', field: ctx.params[1] }],
      wait,
    );
    return { operation_id: opId, status: wait ? 'completed' : 'acknowledged' };
  });
}
