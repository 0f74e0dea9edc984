/** What an error becomes on a log line. */
export interface LoggedError {
  type: string;
  message: string;
  stack?: string;
  code?: string;
  kind?: string;
  cause?: LoggedError;
}

const MAX_MESSAGE = 500;
const MAX_DEPTH = 3;

/**
 * Errors as every log line writes them: type, message, code, stack and cause, and
 * nothing else. Libraries hang request data on their errors (TypeORM's `parameters`
 * carry a whole uploaded file, body-parser's `body` the raw request, pg's `detail` a
 * refused value), so no other property is copied. For PostgreSQL data errors (SQLSTATE
 * class 22) quoted text is dropped from the message, since PostgreSQL quotes the refused
 * value there; a constraint error's message quotes only names (its values are in `detail`).
 */
export function serializeErrorForLog(err: unknown, depth = 0): unknown {
  // pino-http hands over pino's own serialization (a plain object with every property
  // copied); a direct call may hand over the Error itself. Both are read the same way.
  if (!err || typeof err !== 'object') return err;
  const source = err as {
    name?: unknown;
    type?: unknown;
    message?: unknown;
    stack?: unknown;
    kind?: unknown;
    cause?: unknown;
    driverError?: unknown;
  };
  if (typeof source.message !== 'string') return { type: typeName(source) };
  const type = typeName(source);
  const code = codeOf(source) ?? codeOf(source.driverError);
  const quotesValues = !!code && code.startsWith('22');
  const message = clean(source.message, quotesValues);
  const logged: LoggedError = { type, message };
  if (code) logged.code = code;
  if (typeof source.kind === 'string') logged.kind = source.kind;
  if (typeof source.stack === 'string') {
    // The stack's first line repeats the message.
    const firstBreak = source.stack.indexOf('\n');
    logged.stack = `${type}: ${message}${firstBreak >= 0 ? source.stack.slice(firstBreak) : ''}`;
  }
  if (source.cause && typeof source.cause === 'object' && depth < MAX_DEPTH) {
    logged.cause = serializeErrorForLog(source.cause, depth + 1) as LoggedError;
  }
  return logged;
}

function typeName(source: { name?: unknown; type?: unknown }): string {
  if (typeof source.type === 'string') return source.type;
  if (typeof source.name === 'string') return source.name;
  return 'Error';
}

function codeOf(value: unknown): string | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const code = (value as { code?: unknown }).code;
  return typeof code === 'string' && code.length > 0 ? code : undefined;
}

/** Bounded, and with every "quoted" span emptied when the quotes may hold user data. */
function clean(message: string, dropQuoted: boolean): string {
  const bounded = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}…` : message;
  if (!dropQuoted) return bounded;
  let out = '';
  let quoted = false;
  for (const ch of bounded) {
    if (ch === '"') {
      out += quoted ? '…"' : '"';
      quoted = !quoted;
    } else if (!quoted) out += ch;
  }
  return out;
}
