/** Serde-style text for a JSON syntax error (`expected value at line 1 column 5`). */
export function formatJsonError(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (text.trim().length === 0) return 'EOF while parsing a value at line 1 column 0';
  const position = /position (\d+)/.exec(message);
  if (position) {
    const pos = Number(position[1]);
    const before = text.slice(0, pos);
    const line = before.split('\n').length;
    const column = pos - before.lastIndexOf('\n');
    return `expected value at line ${line} column ${column}`;
  }
  if (/end of JSON input/i.test(message)) {
    const lines = text.split('\n');
    return `EOF while parsing a value at line ${lines.length} column ${lines[lines.length - 1].length}`;
  }
  return message;
}
