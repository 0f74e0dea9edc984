import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import {
  isConnectionLost,
  isInvalidValue,
  isPoolExhausted,
  isTransactionTimeout,
} from '@quarry/db';
import { DomainError, DomainErrorKind } from '@quarry/documents';
import { loggablePath } from '@quarry/observability';
import { QueueUnavailableError } from '@quarry/queue';
import { VectorStoreUnavailableError } from '@quarry/vector';
import type { Request, Response } from 'express';
import { STATUS_CODES } from 'node:http';

/** RFC 9457 problem details. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: string[];
  [extension: string]: unknown;
}

export const PROBLEM_JSON = 'application/problem+json';

/** Throw this to answer with a specific problem (extra members are RFC 9457 extensions). */
export class ProblemException extends HttpException {
  constructor(
    status: number,
    detail: string,
    readonly extensions: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail, status);
  }
}

/** How each kind of expected domain failure reads over HTTP. */
const DOMAIN_STATUS: Record<DomainErrorKind, number> = {
  'bad-input': HttpStatus.BAD_REQUEST,
  'not-found': HttpStatus.NOT_FOUND,
  conflict: HttpStatus.CONFLICT,
  'too-large': HttpStatus.PAYLOAD_TOO_LARGE,
  'unsupported-type': HttpStatus.UNSUPPORTED_MEDIA_TYPE,
  unauthorized: HttpStatus.UNAUTHORIZED,
  forbidden: HttpStatus.FORBIDDEN,
};

/**
 * Errors raised by body-parser before a route runs (http-errors with a `type` such as
 * entity.too.large). Other libraries' errors with a `status` (an HTTP client's 404 from
 * a dependency) must stay 500s, so the shape is matched narrowly.
 */
interface HttpLikeError {
  status: number;
  expose?: boolean;
  message: string;
  type?: string;
}

function isHttpLikeError(value: unknown): value is HttpLikeError {
  if (!(value instanceof Error)) return false;
  const { status, type, expose } = value as { status?: unknown; type?: unknown; expose?: unknown };
  return (
    typeof status === 'number' &&
    status >= 400 &&
    status < 500 &&
    expose === true &&
    typeof type === 'string'
  );
}

/** body-parser's messages quote the body; these say what to fix without echoing it. */
const BODY_ERROR_DETAILS: Record<string, string> = {
  'entity.too.large': 'The request body is larger than this endpoint accepts.',
  'entity.parse.failed': 'The request body is not valid JSON.',
  'encoding.unsupported': 'The request body uses a character set this api does not read.',
  'charset.unsupported': 'The request body uses a character set this api does not read.',
};

interface Mapped {
  status: number;
  detail: string;
  headers?: Record<string, string>;
  errors?: string[];
  extensions?: Record<string, unknown>;
}

/**
 * Every error leaves the api as application/problem+json: validation failures, unknown
 * routes and malformed JSON as 4xx a person can act on; a dependency that is down or a
 * pool that is exhausted as 503 with Retry-After; anything unexpected as a 500 that
 * shows nothing internal.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Problem');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const mapped = this.map(exception);
    if (mapped.status >= 500) {
      this.logger.error(
        // The error serializer keeps only type, message, code and stack; the path loses
        // its query values. Neither a body nor a parameter reaches the line.
        { err: exception, path: loggablePath(req.originalUrl), status: mapped.status },
        mapped.status === 500 ? 'unhandled error' : mapped.detail,
      );
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    const body: ProblemDetails = {
      type: 'about:blank',
      title: STATUS_CODES[mapped.status] ?? 'Error',
      status: mapped.status,
      detail: mapped.detail,
      instance: req.originalUrl,
      ...(mapped.errors ? { errors: mapped.errors } : {}),
      ...mapped.extensions,
    };
    for (const [name, value] of Object.entries(mapped.headers ?? {})) res.setHeader(name, value);
    // A refused request whose body was never read (no key, too large, over budget): close
    // the connection instead of draining the rest of the body off the socket.
    if (!req.complete) res.setHeader('Connection', 'close');
    res.status(mapped.status).type(PROBLEM_JSON).send(JSON.stringify(body));
  }

  private map(exception: unknown): Mapped {
    if (exception instanceof ProblemException) {
      return {
        status: exception.getStatus(),
        detail: exception.message,
        extensions: exception.extensions,
        headers: exception.headers,
      };
    }
    if (exception instanceof DomainError) {
      const status = DOMAIN_STATUS[exception.kind];
      return {
        status,
        detail: exception.message,
        extensions: exception.extensions,
        headers: status === HttpStatus.UNAUTHORIZED ? { 'WWW-Authenticate': 'Bearer' } : {},
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      if (typeof response === 'object' && response !== null) {
        const message = (response as { message?: unknown }).message;
        if (Array.isArray(message)) {
          return { status, detail: message.join('; '), errors: message.map(String) };
        }
        if (typeof message === 'string') return { status, detail: message };
      }
      return { status, detail: exception.message };
    }
    if (isHttpLikeError(exception)) {
      return {
        status: exception.status,
        detail: BODY_ERROR_DETAILS[exception.type ?? ''] ?? exception.message,
      };
    }
    if (isInvalidValue(exception)) {
      return {
        status: HttpStatus.BAD_REQUEST,
        detail:
          'A value in the request cannot be stored or compared (out of range, a NUL character, ' +
          'or text that is not valid Unicode). Nothing was changed.',
      };
    }
    if (isPoolExhausted(exception)) {
      return {
        status: HttpStatus.SERVICE_UNAVAILABLE,
        detail: 'The database is busy: no connection became free in time. Retry shortly.',
        headers: { 'Retry-After': String(exception.retryAfterSeconds) },
      };
    }
    if (isConnectionLost(exception) || isTransactionTimeout(exception)) {
      return {
        status: HttpStatus.SERVICE_UNAVAILABLE,
        detail: 'The database connection was interrupted. Nothing was changed; retry the request.',
        headers: { 'Retry-After': '1' },
      };
    }
    if (exception instanceof QueueUnavailableError) {
      return {
        status: HttpStatus.SERVICE_UNAVAILABLE,
        detail: 'The job queue is unavailable. Retry shortly.',
        headers: { 'Retry-After': '5' },
      };
    }
    if (exception instanceof VectorStoreUnavailableError) {
      return {
        status: HttpStatus.SERVICE_UNAVAILABLE,
        detail: 'The vector index is unavailable. Retry shortly.',
        headers: { 'Retry-After': '5' },
      };
    }
    return { status: HttpStatus.INTERNAL_SERVER_ERROR, detail: 'An unexpected error occurred.' };
  }
}
