import * as path from 'node:path';
import { startEmulator } from './emulator-server';

function argument(name: string): string | undefined {
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    if (args[i] === `--${name}`) return args[i + 1];
    if (args[i].startsWith(`--${name}=`)) return args[i].slice(name.length + 3);
  }
  return undefined;
}

async function main(): Promise<void> {
  const portText = argument('port') ?? process.env.QDRANT_EMULATOR_PORT ?? '6333';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(
      `qdrant-emulator: --port / QDRANT_EMULATOR_PORT must be a port number, got "${portText}"`,
    );
    process.exit(2);
  }
  const storage = path.resolve(
    argument('storage') ?? process.env.QDRANT_EMULATOR_STORAGE ?? './.data/qdrant',
  );
  const host = argument('host') ?? process.env.QDRANT_EMULATOR_HOST ?? '127.0.0.1';
  const compactText = process.env.QDRANT_EMULATOR_COMPACT_BYTES;
  const emulator = await startEmulator({
    host,
    port,
    storage,
    compactAfterBytes: compactText ? Number(compactText) : undefined,
    apiKey: argument('api-key') ?? process.env.QDRANT_EMULATOR_API_KEY ?? undefined,
    storageSnapshot:
      argument('storage-snapshot') ?? process.env.QDRANT_EMULATOR_STORAGE_SNAPSHOT ?? undefined,
  });
  console.log(`qdrant-emulator listening on ${emulator.url} (storage ${storage})`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    emulator.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(`qdrant-emulator: error while stopping on ${signal}:`, err);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  console.error('qdrant-emulator failed to start:', err);
  process.exit(1);
});
