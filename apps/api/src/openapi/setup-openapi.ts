import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

export const OPENAPI_UI_PATH = 'docs';

/** OpenAPI built from the controllers and DTOs: the UI at /docs, the JSON at /docs-json. */
export function setupOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Quarry')
    .setDescription(
      'Document ingestion and semantic search. Uploads are answered at once and processed ' +
        'in the background; follow a document with its status endpoint or its event stream. ' +
        'Every request needs `Authorization: Bearer <api key>`; a key sees only its owner’s ' +
        'collections and documents. Errors are RFC 9457 `application/problem+json`.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'an API key' })
    .build();
  SwaggerModule.setup(OPENAPI_UI_PATH, app, () => SwaggerModule.createDocument(app, config), {
    jsonDocumentUrl: `${OPENAPI_UI_PATH}-json`,
    customSiteTitle: 'Quarry API',
  });
}
