import 'reflect-metadata';
import { describeConfig, loadConfigOrExit } from '@quarry/config';

async function main(): Promise<void> {
  // Validate first: the framework takes seconds to load, a bad value should not.
  const config = loadConfigOrExit({ app: 'worker' });
  if (config.embedding.provider === 'local') {
    (await import('@quarry/pipeline')).checkEmbedderOrExit(config.embedding, 'quarry-worker');
  }
  const [{ NestFactory }, { Logger }, { workerModuleFor }] = await Promise.all([
    import('@nestjs/core'),
    import('nestjs-pino'),
    import('./worker-processors'),
  ]);
  const app = await NestFactory.createApplicationContext(workerModuleFor(config), {
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  app.get(Logger).log({ config: describeConfig(config) }, 'configuration');
  // Exit 0 after a clean drain instead of re-raising the signal.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  await app.init();
}

main().catch((err: unknown) => {
  process.stderr.write(
    `quarry-worker failed to start: ${err instanceof Error ? err.stack : String(err)}\n`,
  );
  process.exit(1);
});
