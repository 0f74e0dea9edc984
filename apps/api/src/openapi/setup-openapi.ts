import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

export const OPENAPI_UI_PATH = 'docs';

type SchemaObject = NonNullable<NonNullable<OpenAPIObject['components']>['schemas']>[string];

const PROBLEM_SCHEMA: SchemaObject = {
  type: 'object',
  description: 'RFC 9457 problem details; extra members carry specifics (e.g. document_count)',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string', example: 'about:blank' },
    title: { type: 'string', example: 'Not Found' },
    status: { type: 'integer', example: 404 },
    detail: { type: 'string', example: 'document 3f0c… was not found' },
    instance: { type: 'string', example: '/v1/documents/3f0c…' },
    errors: { type: 'array', items: { type: 'string' } },
  },
  additionalProperties: true,
};

/** OpenAPI built from the controllers and DTOs: the UI at /docs, the JSON at /docs-json. */
export function setupOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Quarry')
    .setDescription(
      'Document ingestion and semantic search. Uploads are answered at once and processed ' +
        'in the background; follow a document with its status endpoint or its event stream. ' +
        'Every request needs `Authorization: Bearer <api key>`; a key sees only its owner’s ' +
        'collections and documents, and anything else is 404. Errors are RFC 9457 ' +
        '`application/problem+json`. The queue dashboard is at /admin/queues (admin key or ' +
        'the dashboard user).',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'an API key' })
    .build();
  SwaggerModule.setup(
    OPENAPI_UI_PATH,
    app,
    () => withProblemResponses(SwaggerModule.createDocument(app, config)),
    { jsonDocumentUrl: `${OPENAPI_UI_PATH}-json`, customSiteTitle: 'Quarry API' },
  );
}

/** Every error answer is a problem document, and every route may answer 400 and 401. */
function withProblemResponses(document: OpenAPIObject): OpenAPIObject {
  document.components ??= {};
  document.components.schemas = { ...document.components.schemas, ProblemDetails: PROBLEM_SCHEMA };
  const problem = {
    'application/problem+json': { schema: { $ref: '#/components/schemas/ProblemDetails' } },
  };
  for (const item of Object.values(document.paths)) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
      const operation = item[method];
      if (!operation) continue;
      operation.responses['400'] ??= { description: 'the request is not valid' };
      operation.responses['401'] ??= { description: 'no API key, or not a valid one' };
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) >= 400 && response && 'description' in response) {
          response.content = { ...problem, ...response.content };
        }
      }
    }
  }
  return document;
}
