import type { Provider } from '@nestjs/common';
import { BackupCommand } from './backup.command';
import { CheckJobsCommand } from './check-jobs.command';
import { CleanOrphansCommand } from './clean-orphans.command';
import { DbBackupCommand } from './db-backup.command';
import { DbRestoreCommand } from './db-restore.command';
import { PauseCommand } from './pause.command';
import { ReindexCommand } from './reindex.command';
import { ResetHardCommand } from './reset-hard.command';
import { ResetSoftCommand } from './reset-soft.command';
import { ResetStuckJobsCommand } from './reset-stuck-jobs.command';
import { RestoreCommand } from './restore.command';
import { ResumeCommand } from './resume.command';
import { SafeStartCommand } from './safe-start.command';
import { SafeStopCommand } from './safe-stop.command';

/** The operator's verbs backed by OperationsModule (registered together in CliModule). */
export const OPERATIONS_COMMANDS: Provider[] = [
  BackupCommand,
  CheckJobsCommand,
  CleanOrphansCommand,
  DbBackupCommand,
  DbRestoreCommand,
  PauseCommand,
  ReindexCommand,
  ResetHardCommand,
  ResetSoftCommand,
  ResetStuckJobsCommand,
  RestoreCommand,
  ResumeCommand,
  SafeStartCommand,
  SafeStopCommand,
];
