import { badInput } from './domain-errors';

/** How deep a JSON value a client may send (bodies and metadata alike). */
export const DEFAULT_JSON_MAX_DEPTH = 32;

/** How many values (elements, members, containers) one JSON body may hold. */
export const DEFAULT_JSON_MAX_VALUES = 100_000;

export interface JsonShapeLimits {
  maxDepth: number;
  maxValues: number;
}

/**
 * What is wrong with the shape of a JSON text, or null: nesting deeper than `maxDepth`,
 * or more than `maxValues` values (a few MB of `{},{},…` would otherwise become millions
 * of objects on the heap). One linear pass over the raw bytes, before anything is
 * parsed, so a hostile body costs no recursion and no allocation.
 */
export function jsonShapeProblem(text: Buffer | string, limits: JsonShapeLimits): string | null {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  let depth = 0;
  let values = 1;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === 0x5c) escaped = true;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth += 1;
      if (depth > limits.maxDepth) return `nests deeper than ${limits.maxDepth} levels`;
    } else if (c === 0x7d || c === 0x5d) depth -= 1;
    else if (c === 0x2c) {
      values += 1;
      if (values > limits.maxValues) return `holds more than ${limits.maxValues} values`;
    }
  }
  return null;
}

/**
 * What PostgreSQL refuses in text and jsonb: NUL, and UTF-16 surrogates that are not
 * paired (JSON.stringify writes them as `\udXXX`, which jsonb rejects). Returns a
 * description of the first problem, or null.
 */
export function unstorableText(value: string): string | null {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0) return 'a NUL character';
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i += 1;
      else return 'an unpaired UTF-16 surrogate';
    } else if (c >= 0xdc00 && c <= 0xdfff) return 'an unpaired UTF-16 surrogate';
  }
  return null;
}

/**
 * Refuses (400) a JSON value PostgreSQL could not store as jsonb, naming the field,
 * never the value: too deep, or a key or string with NUL or an unpaired surrogate.
 */
export function assertStorableJson(
  value: unknown,
  field: string,
  maxDepth = DEFAULT_JSON_MAX_DEPTH,
): void {
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (pending.length > 0) {
    const { value: current, depth } = pending.pop()!;
    if (typeof current === 'string') {
      const problem = unstorableText(current);
      if (problem) throw badInput(`${field} contains ${problem}`);
    } else if (typeof current === 'object' && current !== null) {
      if (depth >= maxDepth) throw badInput(`${field} nests deeper than ${maxDepth} levels`);
      for (const [key, item] of Object.entries(current)) {
        const problem = unstorableText(key);
        if (problem) throw badInput(`${field} has a key with ${problem}`);
        pending.push({ value: item, depth: depth + 1 });
      }
    }
  }
}
