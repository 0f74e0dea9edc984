import { JobName, JobQueueService, QueueName } from '@quarry/queue';
import { TEST_REDIS_URL } from '@quarry/testing';
import { UnrecoverableError, Worker } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { DocumentsStack, startDocumentsStack } from './support/documents-stack';

const USER = 'ops';
const PASSWORD = 'correct horse battery';
// Debian's chromium (.tooling/ensure-services.sh installs it); playwright-core downloads nothing.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// Flags that work as root on a machine without a display or outside network. Playwright
// gives every launch a fresh temporary profile (user data dir).
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe('queue dashboard in a real browser', () => {
  let stack: DocumentsStack;
  let browser: Browser;
  let adminKey: string;
  let jobs: JobQueueService;
  let failedJobId: string;

  beforeAll(async () => {
    stack = await startDocumentsStack('dashboard_browser', {
      overrides: { BULL_BOARD_USER: USER, BULL_BOARD_PASSWORD: PASSWORD },
    });
    adminKey = await stack.keyFor('ops-team', 'admin');
    jobs = stack.app.get(JobQueueService);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });

    // No worker runs here: two cleanup jobs wait, and one ingest job fails for good the
    // way a permanent failure does in the worker.
    for (let i = 0; i < 2; i++) {
      await jobs.enqueue({
        name: JobName.CleanupDocument,
        data: { documentId: randomUUID(), generation: 2 },
      });
    }
    const enqueued = await jobs.enqueue({
      name: JobName.IngestDocument,
      data: { documentId: randomUUID(), generation: 1 },
    });
    failedJobId = enqueued.jobId;
    const ingest = jobs.queue(QueueName.Ingest);
    const worker = new Worker(ingest.name, null, {
      connection: { url: TEST_REDIS_URL, maxRetriesPerRequest: null },
      prefix: ingest.opts.prefix,
      autorun: false,
    });
    try {
      const job = await worker.getNextJob('dashboard-test');
      expect(job?.id).toBe(failedJobId);
      await job?.moveToFailed(new UnrecoverableError('corrupt PDF'), 'dashboard-test');
    } finally {
      await worker.close();
    }
    expect(await ingest.getJobState(failedJobId)).toBe('failed');
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  /** A context whose every request to another host is aborted and recorded. */
  async function isolatedContext(
    auth: Parameters<Browser['newContext']>[0],
  ): Promise<{ context: BrowserContext; page: Page; offsite: string[] }> {
    const context = await browser.newContext(auth);
    const offsite: string[] = [];
    await context.route('**/*', (route) => {
      const { hostname } = new URL(route.request().url());
      if (hostname === '127.0.0.1' || hostname === 'localhost') return route.continue();
      offsite.push(route.request().url());
      return route.abort('blockedbyclient');
    });
    return { context, page: await context.newPage(), offsite };
  }

  const queueCard = (page: Page, name: string) =>
    page.locator('[class*="queueCard"]').filter({ has: page.locator(`a[title="${name}"]`) });

  async function expectQueueList(page: Page): Promise<void> {
    await page.goto(`${stack.baseUrl}/admin/queues`);
    const ingest = queueCard(page, 'ingest');
    const cleanup = queueCard(page, 'cleanup');
    await ingest.waitFor({ timeout: 15_000 });
    await cleanup.waitFor({ timeout: 15_000 });
    await expect(page.title()).resolves.toBe('Quarry queues');
    expect(await ingest.innerText()).toMatch(/failed\s*1/i);
    expect(await ingest.innerText()).toMatch(/\b1 Job\b/);
    expect(await cleanup.innerText()).toMatch(/\b2 Jobs\b/);
  }

  it('renders the queue list with basic auth, with nothing fetched from outside', async () => {
    const { context, page, offsite } = await isolatedContext({
      httpCredentials: { username: USER, password: PASSWORD },
    });
    try {
      await expectQueueList(page);
      expect(await page.content()).not.toContain('fonts.googleapis.com');
      expect(offsite).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('renders with an admin key and retries a failed job from the page', async () => {
    const { context, page, offsite } = await isolatedContext({
      extraHTTPHeaders: { Authorization: adminKey },
    });
    try {
      await expectQueueList(page);
      await queueCard(page, 'ingest').locator('a[href$="/queue/ingest?status=failed"]').click();
      const card = page
        .locator('[class*="card"]')
        .filter({ has: page.locator(`a[href*="/ingest/${failedJobId}"]`) })
        .last();
      await card.waitFor({ timeout: 15_000 });
      expect(await card.innerText()).toContain('Failed at');
      await card.locator('button:has(svg.lucide-refresh-cw)').click();
      await page.getByRole('button', { name: 'Confirm' }).click();
      // The failed list refreshes without the job, which waits for a worker again.
      await card.waitFor({ state: 'detached', timeout: 15_000 });
      await expect(jobs.queue(QueueName.Ingest).getJobState(failedJobId)).resolves.toBe('waiting');
      expect(offsite).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
