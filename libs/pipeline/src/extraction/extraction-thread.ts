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

export interface ExtractionThreadOptions {
  /** A document that takes longer than this is abandoned and the thread replaced. */
  timeoutMs?: number;
}

type Kind = 'pdf' | 'docx';

interface WorkerReply {
  id: number;
  ok: boolean;
  title?: string;
  pages?: string[];
  html?: string;
  errorName?: string;
  errorMessage?: string;
}

interface Pending {
  kind: Kind;
  resolve: (reply: WorkerReply) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/*
 * PDF and DOCX parsing run in a worker thread. Both are CPU-bound (PDF.js; unzip and XML
 * for DOCX) and on the main thread would starve the event loop, and with it BullMQ's lock
 * renewal. A thread also lets unpdf load PDF.js with its dynamic import(), which Node runs
 * natively but Jest's CommonJS runtime cannot. The thread is plain JavaScript evaluated
 * from this string, so it needs no separate build step; libraries load on first use.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
let unpdf;
let mammoth;

async function pdf(data) {
  unpdf = unpdf || require(workerData.unpdfPath);
  const doc = await unpdf.getDocumentProxy(new Uint8Array(data), { verbosity: 0 });
  try {
    let title;
    try {
      const meta = await doc.getMetadata();
      if (meta && meta.info && typeof meta.info.Title === 'string') title = meta.info.Title;
    } catch {}
    const pages = [];
    for (let n = 1; n <= doc.numPages; n++) {
      const page = await doc.getPage(n);
      const content = await page.getTextContent();
      let text = '';
      for (const item of content.items) {
        if (item.str == null) continue;
        text += item.str + (item.hasEOL ? '\\n' : '');
      }
      pages.push(text);
      page.cleanup();
    }
    return { title, pages };
  } finally {
    try { await doc.destroy(); } catch {}
  }
}

async function docx(data) {
  mammoth = mammoth || require(workerData.mammothPath);
  const result = await mammoth.convertToHtml(
    { buffer: Buffer.from(data) },
    {
      // Images carry no text; skip decoding them into base64 data URIs.
      convertImage: mammoth.images.imgElement(async () => ({ src: '' })),
      // An uploaded document must never make the server read files it links to.
      externalFileAccess: false,
    },
  );
  return { html: result.value };
}

parentPort.on('message', async ({ id, kind, data }) => {
  try {
    const result = kind === 'pdf' ? await pdf(data) : await docx(data);
    parentPort.postMessage({ id, ok: true, ...result });
  } catch (err) {
    parentPort.postMessage({
      id,
      ok: false,
      errorName: err && err.name ? String(err.name) : 'Error',
      errorMessage: err && err.message ? String(err.message) : String(err),
    });
  }
});
`;

export class ExtractionTimeoutError extends TransientPipelineError {
  override readonly code = 'extraction_timeout';
}

/** One worker thread that parses PDFs and DOCX files; call `close()` when done. */
export class ExtractionThread {
  private worker?: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly timeoutMs: number;

  constructor(options: ExtractionThreadOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 120_000;
  }

  async pdf(bytes: Uint8Array): Promise<PdfText> {
    const reply = await this.run('pdf', bytes);
    return { title: reply.title?.trim() || undefined, pages: reply.pages ?? [] };
  }

  /** The DOCX as mammoth's semantic HTML (Word heading styles become h1–h6). */
  async docxHtml(bytes: Uint8Array): Promise<string> {
    const reply = await this.run('docx', bytes);
    return reply.html ?? '';
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(new TransientPipelineError('The document extractor was closed.'));
    if (worker) await worker.terminate();
  }

  private run(kind: Kind, bytes: Uint8Array): Promise<WorkerReply> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    // A fresh copy the thread can own: the caller's buffer stays usable, and a small
    // Node Buffer is a view into a shared pool that cannot be transferred.
    const copy = new Uint8Array(bytes.byteLength);
    copy.set(bytes);
    const data = copy.buffer;
    return new Promise<WorkerReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new ExtractionTimeoutError(
            `Reading this ${kind === 'pdf' ? 'PDF' : 'Word document'} took longer than ${Math.round(this.timeoutMs / 1000)} s and was stopped.`,
          ),
        );
        this.restartWorker();
      }, this.timeoutMs);
      this.pending.set(id, { kind, resolve, reject, timer });
      worker.ref();
      worker.postMessage({ id, kind, data }, [data]);
    });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { unpdfPath: require.resolve('unpdf'), mammothPath: require.resolve('mammoth') },
    });
    worker.on('message', (reply: WorkerReply) => this.onReply(reply));
    worker.on('error', (err) => {
      if (this.worker === worker) this.worker = undefined;
      this.failAll(
        new TransientPipelineError(`The extraction thread failed: ${err.message}`, { cause: err }),
      );
    });
    worker.on('exit', () => {
      if (this.worker === worker) this.worker = undefined;
      this.failAll(new TransientPipelineError('The extraction thread exited unexpectedly.'));
    });
    // Idle, the thread must not keep the process alive; `run` refs it while busy.
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
    if (reply.ok) entry.resolve(reply);
    else entry.reject(classify(entry.kind, reply.errorName ?? 'Error', reply.errorMessage ?? ''));
  }

  private restartWorker(): void {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) void worker.terminate();
    this.failAll(new ExtractionTimeoutError('Another document in the same thread timed out.'));
  }

  private failAll(err: Error): void {
    for (const [id, entry] of this.pending) {
      clearTimeout(entry.timer);
      entry.reject(err);
      this.pending.delete(id);
    }
  }
}

function classify(kind: Kind, name: string, message: string): PipelineError {
  if (kind === 'docx') {
    return new CorruptDocumentError(
      'This Word document (DOCX) could not be read: the file is damaged or not a real DOCX. Save it again from Word and upload it once more.',
    );
  }
  if (name === 'PasswordException' || /password/i.test(message)) {
    return new EncryptedDocumentError(
      'This PDF is password-protected, so its text cannot be read. Remove the password and upload it again.',
    );
  }
  return new CorruptDocumentError(
    `This PDF could not be read: the file is damaged or is not a valid PDF (${message || name}).`,
  );
}
