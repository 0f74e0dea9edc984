import { Injectable } from '@nestjs/common';

/**
 * Everything a command prints goes through here: human text on a terminal, one JSON
 * document with --json, so scripts and cron jobs can parse the result.
 */
@Injectable()
export class CliOutput {
  json = false;

  result(value: unknown, human: () => string): void {
    process.stdout.write(this.json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
  }

  info(line: string): void {
    if (!this.json) process.stdout.write(`${line}\n`);
  }

  error(line: string): void {
    process.stderr.write(`${line}\n`);
  }

  get isTty(): boolean {
    return !this.json && !!process.stdout.isTTY;
  }
}
