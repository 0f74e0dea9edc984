import type { EntityManager } from 'typeorm';

/**
 * TypeORM's `query()` answers UPDATE and DELETE with `[rows, rowCount]` but SELECT and
 * INSERT with the rows alone. These two helpers give every statement one shape.
 */
function normalise<T>(result: unknown): { rows: T[]; count: number } {
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  ) {
    return { rows: result[0] as T[], count: result[1] };
  }
  const rows = (Array.isArray(result) ? result : []) as T[];
  return { rows, count: rows.length };
}

/** Rows of a statement (with RETURNING for writes). */
export async function rowsOf<T>(
  m: EntityManager,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  return normalise<T>(await m.query(sql, params)).rows;
}

/** How many rows a write touched. */
export async function affectedBy(
  m: EntityManager,
  sql: string,
  params: unknown[] = [],
): Promise<number> {
  return normalise(await m.query(sql, params)).count;
}
