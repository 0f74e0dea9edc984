import { Worker } from 'node:worker_threads';
import {
  CorruptDocumentError,
  EncryptedDocumentError,
  PipelineError,
  TransientPipelineError,
} from '../pipeline-errors';

export interface PdfText {
  title?: string;
  /** Raw text of each page, page 1 first. */
  pages: string[];
}

export interface PdfExtractorOptions {
  /** A PDF that takes longer than this is abandoned and its worker thread replaced. */
  timeoutMs?: number;
}

interface WorkerReply {
  id: number;
  ok: boolean;
  title?: string;
  pages?: string[];
  errorName?: string;
  errorMessage?: string;
}

interface Pending {
  resolve: (value: PdfText) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/*
 * Parsing runs in a worker thread for two reasons: PDF.js is CPU-bound and would starve
 * the event loop (and with it BullMQ's lock renewal), and unpdf loads PDF.js with a
 * dynamic import(), which Node runs natively in a worker but Jest's CommonJS runtime
 * cannot. The worker is plain JavaScript evaluated from this string so it needs no
 * separate build step.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const unpdf = require(workerData.unpdfPath);
parentPort.on('message', async ({ id, data }) => {
  let pdf;
  try {
    pdf = await unpdf.getDocumentProxy(new Uint8Array(data), { verbosity: 0 });
    let title;
    try {
      const meta = await pdf.getMetadata();
      if (meta && meta.info && typeof meta.info.Title === 'string') title = meta.info.Title;
    } catch {}
    const pages = [];
    for (let n = 1; n <= pdf.numPages; n++) {
      const page = await pdf.getPage(n);
      const content = await page.getTextContent();
      let text = '';
      for (const item of content.items) {
        if (item.str == null) continue;
        text += item.str + (item.hasEOL ? '\\n' : '');
      }
      pages.push(text);
      page.cleanup();
    }
    parentPort.postMessage({ id, ok: true, title, pages });
  } catch (err) {
    parentPort.postMessage({
      id,
      ok: false,
      errorName: err && err.name ? String(err.name) : 'Error',
      errorMessage: err && err.message ? String(err.message) : String(err),
    });
  } finally {
    if (pdf) { try { await pdf.destroy(); } catch {} }
  }
});
`;

export class PdfExtractionTimeoutError extends TransientPipelineError {
  override readonly code = 'extraction_timeout';
}

/** Reads PDFs page by page in a dedicated worker thread; call `close()` when done. */
export class PdfExtractor {
  private worker?: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly timeoutMs: number;

  constructor(options: PdfExtractorOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 120_000;
  }

  extract(bytes: Uint8Array): Promise<PdfText> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    // A fresh copy the worker can own: the caller's buffer stays usable, and a small
    // Node Buffer is a view into a shared pool that cannot be transferred.
    const copy = new Uint8Array(bytes.byteLength);
    copy.set(bytes);
    const data = copy.buffer;
    return new Promise<PdfText>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new PdfExtractionTimeoutError(
            `Reading this PDF took longer than ${Math.round(this.timeoutMs / 1000)} s and was stopped.`,
          ),
        );
        this.restartWorker();
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      worker.ref();
      worker.postMessage({ id, data }, [data]);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(new TransientPipelineError('The PDF extractor was closed.'));
    if (worker) await worker.terminate();
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { unpdfPath: require.resolve('unpdf') },
    });
    worker.on('message', (reply: WorkerReply) => this.onReply(reply));
    worker.on('error', (err) => {
      if (this.worker === worker) this.worker = undefined;
      this.failAll(
        new TransientPipelineError(`The PDF worker failed: ${err.message}`, { cause: err }),
      );
    });
    worker.on('exit', () => {
      if (this.worker === worker) this.worker = undefined;
      this.failAll(new TransientPipelineError('The PDF worker exited unexpectedly.'));
    });
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private onReply(reply: WorkerReply): void {
    const entry = this.pending.get(reply.id);
    if (!entry) return;
    this.pending.delete(reply.id);
    clearTimeout(entry.timer);
    if (this.pending.size === 0) this.worker?.unref();
    if (reply.ok) {
      entry.resolve({ title: reply.title?.trim() || undefined, pages: reply.pages ?? [] });
    } else {
      entry.reject(classifyPdfError(reply.errorName ?? 'Error', reply.errorMessage ?? ''));
    }
  }

  private restartWorker(): void {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) void worker.terminate();
    this.failAll(new PdfExtractionTimeoutError('Another PDF in the same worker timed out.'));
  }

  private failAll(err: Error): void {
    for (const [id, entry] of this.pending) {
      clearTimeout(entry.timer);
      entry.reject(err);
      this.pending.delete(id);
    }
  }
}

function classifyPdfError(name: string, message: string): PipelineError {
  if (name === 'PasswordException' || /password/i.test(message)) {
    return new EncryptedDocumentError(
      'This PDF is password-protected, so its text cannot be read. Remove the password and upload it again.',
    );
  }
  return new CorruptDocumentError(
    `This PDF could not be read: the file is damaged or is not a valid PDF (${message || name}).`,
  );
}
