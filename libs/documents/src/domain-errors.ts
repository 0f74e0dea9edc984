/**
 * Expected failures of the domain, independent of HTTP. The api maps each kind to its
 * status code; the CLI prints the message. Messages are written for the person who
 * sent the request.
 */
export type DomainErrorKind =
  | 'bad-input'
  | 'not-found'
  | 'conflict'
  | 'too-large'
  | 'unsupported-type'
  | 'unauthorized'
  | 'forbidden';

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const badInput = (message: string, extensions?: Record<string, unknown>) =>
  new DomainError('bad-input', message, extensions);
export const notFound = (what: string, id: string) =>
  new DomainError('not-found', `${what} ${id} was not found`);
export const conflict = (message: string, extensions?: Record<string, unknown>) =>
  new DomainError('conflict', message, extensions);
