import 'reflect-metadata';
import { loadConfigOrExit } from '@quarry/config';
import { StderrLogger } from './stderr-logger';

async function main(): Promise<void> {
  const config = loadConfigOrExit({
    app: 'cli',
    // An operator's command prints its own output; framework logs only when something is wrong.
    overrides: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', LOG_PRETTY: false },
  });
  const [{ CommandFactory }, { CliModule }] = await Promise.all([
    import('nest-commander'),
    import('./cli.module'),
  ]);
  await CommandFactory.run(CliModule.register({ config, command: process.argv[2] }), {
    logger: new StderrLogger('quarry', { logLevels: ['error', 'warn'] }),
    // Commander's own errors (unknown command, bad option, --help) carry their exit code.
    errorHandler: (err) => {
      const { exitCode, code } = err as unknown as { exitCode?: number; code?: string };
      // commander has already printed its own message
      if (!code?.startsWith('commander.')) process.stderr.write(`${err.message}\n`);
      process.exit(exitCode ?? 2);
    },
    serviceErrorHandler: (err) => {
      process.stderr.write(`error: ${err.message}\n`);
      process.exitCode = 2;
    },
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`quarry: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});
