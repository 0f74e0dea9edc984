/**
 * An error that reaches the client in Qdrant's error envelope, with Qdrant's status code
 * and message form (`Not found: ...`, `Wrong input: ...`, `Format error in JSON body: ...`,
 * `Validation error in JSON body: [...]`).
 */
export class QdrantError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }

  static notFound(what: string): QdrantError {
    return new QdrantError(404, `Not found: ${what}`);
  }

  static collectionNotFound(name: string): QdrantError {
    return QdrantError.notFound(`Collection \`${name}\` doesn't exist!`);
  }

  static wrongInput(what: string): QdrantError {
    return new QdrantError(400, `Wrong input: ${what}`);
  }

  static badRequest(what: string): QdrantError {
    return new QdrantError(400, `Bad request: ${what}`);
  }

  static conflict(what: string): QdrantError {
    return new QdrantError(409, `Wrong input: ${what}`);
  }

  static format(what: string): QdrantError {
    return new QdrantError(400, `Format error in JSON body: ${what}`);
  }

  static validation(path: string, what: string): QdrantError {
    const where = path === '' ? '' : `${path}: `;
    return new QdrantError(422, `Validation error in JSON body: [${where}${what}]`);
  }
}
