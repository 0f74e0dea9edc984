import { Module } from '@nestjs/common';
import { AbuseLimitsService } from './abuse-limits.service';

/** The Redis-held budgets, shared by the api's routes and the queue dashboard. */
@Module({
  providers: [AbuseLimitsService],
  exports: [AbuseLimitsService],
})
export class AbuseLimitsModule {}
