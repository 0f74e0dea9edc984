import { badInput } from './domain-errors';

/** How deep a JSON value a client may send (bodies and metadata alike). */
export const DEFAULT_JSON_MAX_DEPTH = 32;

/**
 * True when the JSON text nests objects and arrays deeper than `max`. One linear pass
 * over the raw bytes, before anything is parsed, so a deep body costs no recursion.
 */
export function jsonNestingExceeds(text: Buffer | string, max: number): boolean {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  let depth = 0;
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
      if (depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth -= 1;
  }
  return false;
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
