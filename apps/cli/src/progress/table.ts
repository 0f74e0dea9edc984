import Table from 'cli-table3';

type Cell = string | number | boolean | null | undefined;

/** A cli-table3 table; plain borders and no colours when stdout is not a terminal. */
export function renderTable(head: string[], rows: Cell[][]): string {
  const table = new Table({
    head,
    style: process.stdout.isTTY ? {} : { head: [], border: [] },
  });
  for (const row of rows)
    table.push(row.map((cell) => (cell === null || cell === undefined ? '' : cell)));
  return table.toString();
}
