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
 * refused value), so no other property is copied. For PostgreSQL data and constraint
 * errors (SQLSTATE classes 22 and 23) quoted text is dropped from the message, since
 * PostgreSQL quotes the refused value there.
 */
export function serializeErrorForLog(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error)) return err;
  const code = codeOf(err) ?? codeOf((err as { driverError?: unknown }).driverError);
  const quotesValues = !!code && (code.startsWith('22') || code.startsWith('23'));
  const message = clean(err.message, quotesValues);
  const logged: LoggedError = { type: err.name, message };
  if (code) logged.code = code;
  const kind = (err as { kind?: unknown }).kind;
  if (typeof kind === 'string') logged.kind = kind;
  if (err.stack) {
    // The stack's first line repeats the message.
    const firstBreak = err.stack.indexOf('\n');
    logged.stack = `${err.name}: ${message}${firstBreak >= 0 ? err.stack.slice(firstBreak) : ''}`;
  }
  if (err.cause instanceof Error && depth < MAX_DEPTH) {
    logged.cause = serializeErrorForLog(err.cause, depth + 1) as LoggedError;
  }
  return logged;
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
