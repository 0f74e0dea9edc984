import {
  QdrantClientTimeoutError,
  QdrantClientUnexpectedResponseError,
} from '@qdrant/js-client-rest';
import { VectorRetryOptions } from './vector-module-options';

/** What a failed Qdrant call means for the caller. */
export type FailureClass =
  /** network trouble, timeout, 5xx, 408/429: the same request may succeed later */
  | { kind: 'transient'; reason: string; statusCode?: number }
  /** Qdrant understood and refused the request (4xx): retrying cannot help */
  | { kind: 'rejected'; statusCode: number; message: string }
  /** not a Qdrant or network failure (a bug on our side): let it through unchanged */
  | { kind: 'unknown' };

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** 4xx answers that explicitly mean "try again later". */
const RETRYABLE_CLIENT_STATUSES = new Set([408, 429]);

interface HttpErrorLike {
  status: number;
  statusText?: string;
  data?: unknown;
}

/**
 * Errors are matched by shape, not `instanceof`: fetch and abort errors come from Node's
 * own realm (a different `Error` under test runners' sandboxes), and the client throws the
 * fetcher's ApiError, which it does not re-export.
 */
function isErrorLike(err: unknown): err is { name: string; message: string } {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { name?: unknown }).name === 'string' &&
    typeof (err as { message?: unknown }).message === 'string'
  );
}

function isHttpError(err: unknown): err is HttpErrorLike {
  return (
    isErrorLike(err) &&
    typeof (err as Partial<HttpErrorLike>).status === 'number' &&
    'data' in err &&
    'headers' in err
  );
}

/** Qdrant's error envelope is `{"status": {"error": "..."}}`; proxies answer with text. */
export function qdrantMessageOf(data: unknown, fallback: string): string {
  if (data && typeof data === 'object') {
    const status = (data as { status?: unknown }).status;
    if (status && typeof status === 'object') {
      const error = (status as { error?: unknown }).error;
      if (typeof error === 'string') return error;
    }
  }
  if (typeof data === 'string' && data.trim()) return data.trim().slice(0, 500);
  return fallback;
}

function connectionCode(err: unknown): string | undefined {
  for (let current: unknown = err, depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export function classifyFailure(err: unknown): FailureClass {
  if (isHttpError(err)) {
    const message = qdrantMessageOf(err.data, err.statusText || `HTTP ${err.status}`);
    if (err.status >= 500 || RETRYABLE_CLIENT_STATUSES.has(err.status)) {
      return {
        kind: 'transient',
        reason: `HTTP ${err.status}: ${message}`,
        statusCode: err.status,
      };
    }
    return { kind: 'rejected', statusCode: err.status, message };
  }
  if (err instanceof QdrantClientTimeoutError) {
    return { kind: 'transient', reason: `request timed out (${err.message})` };
  }
  if (err instanceof QdrantClientUnexpectedResponseError) {
    // A 2xx other than 200/201: the server is not speaking Qdrant's protocol.
    const status = Number(/Unexpected Response: (\d{3})/.exec(err.message)?.[1] ?? 0);
    return { kind: 'rejected', statusCode: status, message: err.message };
  }
  const code = connectionCode(err);
  if (code) return { kind: 'transient', reason: code };
  if (!isErrorLike(err)) return { kind: 'unknown' };
  if (err.name === 'TypeError' && err.message === 'fetch failed') {
    const cause = (err as { cause?: unknown }).cause;
    return {
      kind: 'transient',
      reason: isErrorLike(cause) ? `fetch failed: ${cause.message}` : 'fetch failed',
    };
  }
  if (err.name === 'AbortError' || err.name === 'TimeoutError') {
    // The client's timeout aborts the fetch; it only wraps the abort when it shares our realm.
    return { kind: 'transient', reason: `request timed out or was aborted (${err.message})` };
  }
  return { kind: 'unknown' };
}

/**
 * Exponential back-off with "equal jitter": half the step is fixed, half random, so that
 * processes retrying together spread out without ever retrying immediately.
 */
export function backoffDelayMs(
  attempt: number,
  options: VectorRetryOptions,
  random: () => number = Math.random,
): number {
  const step = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + (random() * step) / 2);
}
