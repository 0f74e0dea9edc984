import { ConsoleLogger, LogLevel } from '@nestjs/common';

/**
 * The CLI's framework logs go to stderr: stdout carries only a command's own output,
 * so `--json` stays parseable whatever the framework has to say.
 */
export class StderrLogger extends ConsoleLogger {
  protected override printMessages(
    messages: unknown[],
    context?: string,
    logLevel?: LogLevel,
    _stream?: 'stdout' | 'stderr',
    errorStack?: unknown,
    params?: Record<string, unknown>,
  ): void {
    super.printMessages(messages, context, logLevel, 'stderr', errorStack, params);
  }
}
