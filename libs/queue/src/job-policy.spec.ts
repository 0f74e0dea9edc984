import { ALL_JOBS, JobName, jobIdFor } from './job-catalogue';
import { CLEANUP_BACKOFF, backoffStrategy, jobOptionsFor } from './job-policy';

describe('job policy', () => {
  it('backs cleanup off 2 s, 5 s, 10 s, then doubles up to a cap', () => {
    const delays = [1, 2, 3, 4, 5, 20].map((n) => backoffStrategy(n, CLEANUP_BACKOFF));
    expect(delays).toEqual([2_000, 5_000, 10_000, 20_000, 40_000, 300_000]);
  });

  it('gives every job bounded retention', () => {
    const policy = { ingestMaxAttempts: 5, cleanupMaxAttempts: 8 };
    for (const name of ALL_JOBS) {
      const options = jobOptionsFor(name, policy);
      expect(options.removeOnComplete).toEqual(
        expect.objectContaining({ count: expect.any(Number) }),
      );
      expect(options.removeOnFail).toEqual(expect.objectContaining({ count: expect.any(Number) }));
    }
    expect(jobOptionsFor(JobName.IngestDocument, policy).attempts).toBe(5);
    expect(jobOptionsFor(JobName.CleanupDocument, policy).attempts).toBe(8);
  });

  it('builds ids BullMQ accepts: no colon, never a plain integer', () => {
    const id = jobIdFor({
      name: JobName.IngestDocument,
      data: { documentId: '0b7f0a9e-8a4c-4a53-9d8e-2f1b0c3d4e5f', generation: 3 },
    });
    expect(id).toBe('ingest-0b7f0a9e-8a4c-4a53-9d8e-2f1b0c3d4e5f-3');
    expect(id).not.toContain(':');
    expect(Number.isInteger(Number(id))).toBe(false);
  });
});
