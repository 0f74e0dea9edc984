import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { TransactionOptions, withTransaction } from './transaction';

@Injectable()
export class TransactionService {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  /** See withTransaction: ALS propagation, nested calls join, per-transaction timeout. */
  withTransaction<T>(
    fn: (manager: EntityManager) => Promise<T>,
    options: TransactionOptions = {},
  ): Promise<T> {
    return withTransaction(this.dataSource, fn, options);
  }
}
