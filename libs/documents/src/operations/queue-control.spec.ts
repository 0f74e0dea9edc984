import { QueueName } from '@quarry/queue';
import { parseQueueNames } from './queue-control.service';

describe('parseQueueNames', () => {
  it('means every queue when none or "all" is named', () => {
    const all = [QueueName.Ingest, QueueName.Cleanup, QueueName.Maintenance];
    expect(parseQueueNames()).toEqual(all);
    expect(parseQueueNames('')).toEqual(all);
    expect(parseQueueNames('all')).toEqual(all);
  });

  it('takes one known queue', () => {
    expect(parseQueueNames('cleanup')).toEqual([QueueName.Cleanup]);
  });

  it('refuses an unknown one and lists the known ones', () => {
    expect(() => parseQueueNames('uploads')).toThrow(
      'unknown queue "uploads": expected one of ingest, cleanup, maintenance or all',
    );
  });
});
