import { QuarryConfig } from '@quarry/config';
import { ResetService } from '@quarry/documents';
import { Command } from 'nest-commander';
import { CliOutput } from '../cli-output';
import { ResetCommandBase } from './reset-soft.command';

@Command({
  name: 'reset-hard',
  description:
    'remove everything (documents, points, jobs, collections, API keys); the schema and an empty Qdrant collection stay',
})
export class ResetHardCommand extends ResetCommandBase {
  protected readonly mode = 'hard';

  constructor(resets: ResetService, config: QuarryConfig, out: CliOutput) {
    super(resets, config, out);
  }
}
