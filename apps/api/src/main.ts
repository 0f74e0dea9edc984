import 'reflect-metadata';
import { loadConfigOrExit } from '@quarry/config';

async function main(): Promise<void> {
  // Validate first: the framework takes seconds to load, a bad value should not.
  const config = loadConfigOrExit({ app: 'api' });
  if (config.embedding.provider === 'local') {
    (await import('@quarry/pipeline')).checkEmbedderOrExit(config.embedding, 'quarry-api');
  }
  const { createApiApp } = await import('./create-api-app');
  const app = await createApiApp(config);
  await app.listen(config.http.port, process.env.HOST ?? '0.0.0.0');
}

main().catch((err: unknown) => {
  process.stderr.write(
    `quarry-api failed to start: ${err instanceof Error ? err.stack : String(err)}\n`,
  );
  process.exit(1);
});
