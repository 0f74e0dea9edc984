import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import {
  BullBoardInstance,
  BullBoardModule,
  BullBoardModuleOptions,
  InjectBullBoard,
} from '@bull-board/nestjs';
import { Injectable, Module, OnModuleInit } from '@nestjs/common';
import { QuarryConfig } from '@quarry/config';
import { ApiKeysService, DocumentsModule } from '@quarry/documents';
import { JobQueueService } from '@quarry/queue';
import { AbuseLimitsModule } from '../limits/abuse-limits.module';
import { AbuseLimitsService } from '../limits/abuse-limits.service';
import { adminAuthMiddleware } from './admin-auth.middleware';
import { OfflineExpressAdapter } from './offline-express-adapter';

export const QUEUE_DASHBOARD_ROUTE = '/admin/queues';

// @bull-board/express pins the patch release of @bull-board/api below the one the nestjs
// module uses; the server adapter contract is the same, only the declared types differ.
const EXPRESS_ADAPTER = OfflineExpressAdapter as unknown as BullBoardModuleOptions['adapter'];

/** Shows every queue of the catalogue, whatever the configured key prefix. */
@Injectable()
export class QueueDashboardRegistrar implements OnModuleInit {
  constructor(
    @InjectBullBoard() private readonly board: BullBoardInstance,
    private readonly jobs: JobQueueService,
  ) {}

  onModuleInit(): void {
    for (const queue of this.jobs.allQueues()) this.board.addQueue(new BullMQAdapter(queue));
  }
}

/** Bull Board at /admin/queues, behind admin authentication. */
@Module({
  imports: [
    DocumentsModule,
    BullBoardModule.forRootAsync({
      imports: [DocumentsModule, AbuseLimitsModule],
      inject: [ApiKeysService, QuarryConfig, AbuseLimitsService],
      useFactory: (apiKeys: ApiKeysService, config: QuarryConfig, limits: AbuseLimitsService) => ({
        route: QUEUE_DASHBOARD_ROUTE,
        adapter: EXPRESS_ADAPTER,
        middleware: adminAuthMiddleware(apiKeys, config, limits),
        boardOptions: { uiConfig: { boardTitle: 'Quarry queues' } },
      }),
    }),
  ],
  providers: [QueueDashboardRegistrar],
})
export class QueueDashboardModule {}
