import { QdrantError } from './qdrant-error';

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'sequence';
  if (typeof value === 'string') return `string ${JSON.stringify(value)}`;
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return `${value < 0 ? 'integer' : 'integer'} \`${value}\``;
    return `floating point \`${value}\``;
  }
  if (typeof value === 'boolean') return `boolean \`${value}\``;
  if (typeof value === 'object') return 'map';
  return String(value);
}

/** Serde's message for a value of the wrong JSON type. */
export function invalidType(value: unknown, expected: string): QdrantError {
  return QdrantError.format(`invalid type: ${describe(value)}, expected ${expected}`);
}

export function expectObject(value: unknown, expected = 'a map'): JsonObject {
  if (!isObject(value)) throw invalidType(value, expected);
  return value;
}

export function expectArray(value: unknown, expected = 'a sequence'): JsonValue[] {
  if (!Array.isArray(value)) throw invalidType(value, expected);
  return value;
}

export function expectString(value: unknown): string {
  if (typeof value !== 'string') throw invalidType(value, 'a string');
  return value;
}

export function expectNumber(value: unknown): number {
  if (typeof value !== 'number') throw invalidType(value, 'f64');
  return value;
}

export function expectBool(value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalidType(value, 'a boolean');
  return value;
}

export function expectUint(value: unknown, kind = 'usize'): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw invalidType(value, kind);
  if (value < 0) throw QdrantError.format(`invalid value: integer \`${value}\`, expected ${kind}`);
  return value;
}

export function optionalUint(value: unknown, kind = 'usize'): number | undefined {
  return value === undefined || value === null ? undefined : expectUint(value, kind);
}

export function optionalNumber(value: unknown): number | undefined {
  return value === undefined || value === null ? undefined : expectNumber(value);
}

export function deepClone<T extends JsonValue>(value: T): T {
  return structuredClone(value);
}
