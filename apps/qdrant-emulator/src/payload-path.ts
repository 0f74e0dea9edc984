import { isObject, JsonObject, JsonValue } from './json-value';
import { QdrantError } from './qdrant-error';

/** One step of a payload key such as `country.cities[].name` or `tags[0]`. */
export type PathSegment =
  { kind: 'key'; key: string } | { kind: 'all' } | { kind: 'index'; index: number };

const cache = new Map<string, PathSegment[]>();

export function parsePath(path: string): PathSegment[] {
  const cached = cache.get(path);
  if (cached) return cached;
  const segments: PathSegment[] = [];
  let i = 0;
  const fail = (): never => {
    throw QdrantError.format(`Invalid JSON path: ${path}`);
  };
  if (path.length === 0) fail();
  while (i < path.length) {
    if (path[i] === '"') {
      const end = path.indexOf('"', i + 1);
      if (end < 0) fail();
      segments.push({ kind: 'key', key: path.slice(i + 1, end) });
      i = end + 1;
    } else if (path[i] !== '[') {
      let j = i;
      while (j < path.length && path[j] !== '.' && path[j] !== '[') j++;
      if (j === i) fail();
      segments.push({ kind: 'key', key: path.slice(i, j) });
      i = j;
    }
    while (i < path.length && path[i] === '[') {
      const end = path.indexOf(']', i);
      if (end < 0) fail();
      const inner = path.slice(i + 1, end);
      if (inner === '') segments.push({ kind: 'all' });
      else if (/^\d+$/.test(inner)) segments.push({ kind: 'index', index: Number(inner) });
      else fail();
      i = end + 1;
    }
    if (i < path.length) {
      if (path[i] !== '.') fail();
      i++;
      if (i === path.length) fail();
    }
  }
  if (cache.size > 10_000) cache.clear();
  cache.set(path, segments);
  return segments;
}

/** Every value the path reaches; `[]` fans out over array elements. Arrays at the end stay whole. */
export function valuesAt(root: JsonValue | undefined, segments: PathSegment[]): JsonValue[] {
  let current: JsonValue[] = root === undefined ? [] : [root];
  for (const segment of segments) {
    const next: JsonValue[] = [];
    for (const value of current) {
      if (segment.kind === 'key') {
        if (isObject(value) && Object.prototype.hasOwnProperty.call(value, segment.key)) {
          next.push(value[segment.key]);
        }
      } else if (segment.kind === 'all') {
        if (Array.isArray(value)) next.push(...value);
      } else if (Array.isArray(value) && segment.index < value.length) {
        next.push(value[segment.index]);
      }
    }
    current = next;
    if (current.length === 0) break;
  }
  return current;
}

/** Values a condition looks at: the reached values with arrays flattened one level. */
export function fieldValues(root: JsonValue | undefined, segments: PathSegment[]): JsonValue[] {
  const raw = valuesAt(root, segments);
  const out: JsonValue[] = [];
  for (const value of raw) {
    if (Array.isArray(value)) out.push(...value);
    else out.push(value);
  }
  return out;
}

/** Removes the value at a path (every match for `[]`). */
export function deleteAt(root: JsonObject, segments: PathSegment[]): void {
  const walk = (value: JsonValue, index: number): void => {
    const segment = segments[index];
    const last = index === segments.length - 1;
    if (segment.kind === 'key') {
      if (!isObject(value) || !Object.prototype.hasOwnProperty.call(value, segment.key)) return;
      if (last) delete value[segment.key];
      else walk(value[segment.key], index + 1);
    } else if (segment.kind === 'all') {
      if (!Array.isArray(value)) return;
      if (last) value.length = 0;
      else for (const item of value) walk(item, index + 1);
    } else {
      if (!Array.isArray(value) || segment.index >= value.length) return;
      if (last) value.splice(segment.index, 1);
      else walk(value[segment.index], index + 1);
    }
  };
  walk(root, 0);
}

/** Merges `patch` into the object at a key path, creating intermediate objects (set_payload `key`). */
export function mergeAt(root: JsonObject, segments: PathSegment[], patch: JsonObject): void {
  const targets: JsonObject[] = [];
  const walk = (value: JsonObject | JsonValue[], index: number): void => {
    if (index === segments.length) {
      if (isObject(value)) targets.push(value);
      return;
    }
    const segment = segments[index];
    if (segment.kind === 'key') {
      if (!isObject(value)) return;
      let child = value[segment.key];
      if (!isObject(child) && !Array.isArray(child)) {
        child = {};
        value[segment.key] = child;
      }
      walk(child, index + 1);
    } else if (segment.kind === 'all') {
      if (!Array.isArray(value)) return;
      for (const item of value) if (isObject(item) || Array.isArray(item)) walk(item, index + 1);
    } else if (Array.isArray(value) && segment.index < value.length) {
      const item = value[segment.index];
      if (isObject(item) || Array.isArray(item)) walk(item, index + 1);
    }
  };
  walk(root, 0);
  for (const target of targets) Object.assign(target, structuredClone(patch));
}

/** The part of `value` a path reaches, keeping its shape; `[]` keeps every element's part. */
function projectAt(
  value: JsonValue,
  segments: PathSegment[],
  index: number,
): JsonValue | undefined {
  if (index === segments.length) return structuredClone(value);
  const segment = segments[index];
  if (segment.kind === 'key') {
    if (!isObject(value) || !Object.prototype.hasOwnProperty.call(value, segment.key))
      return undefined;
    const inner = projectAt(value[segment.key], segments, index + 1);
    return inner === undefined ? undefined : { [segment.key]: inner };
  }
  if (!Array.isArray(value)) return undefined;
  if (segment.kind === 'index') {
    if (segment.index >= value.length) return undefined;
    const inner = projectAt(value[segment.index], segments, index + 1);
    return inner === undefined ? undefined : [inner];
  }
  const out: JsonValue[] = [];
  for (const item of value) {
    const inner = projectAt(item, segments, index + 1);
    if (inner !== undefined) out.push(inner);
  }
  return out;
}

/** Merges two projections of the same payload (arrays element by element). */
function mergeProjections(a: JsonValue, b: JsonValue): JsonValue {
  if (isObject(a) && isObject(b)) {
    for (const [key, value] of Object.entries(b)) {
      a[key] = key in a ? mergeProjections(a[key], value) : value;
    }
    return a;
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    return a.map((item, i) => mergeProjections(item, b[i]));
  }
  return b;
}

/** Copies only the given paths of a payload (with_payload include selector). */
export function pickPaths(payload: JsonObject, paths: string[]): JsonObject {
  let out: JsonObject = {};
  for (const path of paths) {
    const part = projectAt(payload, parsePath(path), 0);
    if (part !== undefined) out = mergeProjections(out, part) as JsonObject;
  }
  return out;
}

/** A payload without the given paths (with_payload exclude selector). */
export function omitPaths(payload: JsonObject, paths: string[]): JsonObject {
  const copy = structuredClone(payload);
  for (const path of paths) deleteAt(copy, parsePath(path));
  return copy;
}
