import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { describeConfig } from '@quarry/config';
import { loadConfigOrExit } from '@quarry/core';
import { Logger } from 'nestjs-pino';
import { workerModuleFor } from './worker-processors';

async function main(): Promise<void> {
  const config = loadConfigOrExit({ app: 'worker' });
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
