import { Command, CommandRunner, Option } from 'nest-commander';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CliOutput } from '../cli-output';

interface DemoOptions {
  url?: string;
  key?: string;
}

interface Uploaded {
  file: string;
  id: string;
}

interface StatusEvent {
  status: string;
  stage: string | null;
  progress: number;
  chunks_done: number;
  chunks_total: number;
  error: string | null;
}

const TERMINAL = new Set(['completed', 'failed', 'deleted']);
/** The sample documents shipped in the repository: Korean and English, one of each type. */
const SAMPLES = [
  'sample-en.pdf',
  'sample-ko.pdf',
  'sample-en.docx',
  'sample-ko.docx',
  'sample-en.html',
  'sample-ko.html',
  'sample-en.md',
  'sample-ko.md',
  'sample-en.txt',
  'sample-ko.txt',
  'sample-ko-euckr.txt',
  'sample-ko-utf16le.txt',
];

/**
 * `make demo`: with the system running, uploads the samples through the public API,
 * follows each one's progress live over Server-Sent Events, and prints what came out.
 */
@Command({
  name: 'demo',
  description: 'upload the sample documents to a running api and follow them',
})
export class DemoCommand extends CommandRunner {
  constructor(private readonly out: CliOutput) {
    super();
  }

  async run(_args: string[], options: DemoOptions): Promise<void> {
    const base = (
      options.url ??
      process.env.QUARRY_API_URL ??
      `http://127.0.0.1:${process.env.PORT ?? 3000}`
    ).replace(/\/$/, '');
    const key =
      options.key ??
      process.env.QUARRY_API_KEY ??
      process.env.QUARRY_DEV_API_KEY ??
      'quarry-dev-key-change-me';
    const api = async <T>(
      method: string,
      route: string,
      body?: unknown,
      form?: FormData,
    ): Promise<T> => {
      const res = await fetch(`${base}${route}`, {
        method,
        headers: {
          authorization: `Bearer ${key}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body: form ?? (body ? JSON.stringify(body) : undefined),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${route} → ${res.status}: ${text}`);
      return JSON.parse(text) as T;
    };

    const fixtures = findFixtures();
    const collection = await api<{ id: string }>('POST', '/v1/collections', {
      name: `demo ${new Date().toISOString()}`,
      description: 'sample documents uploaded by make demo',
    });
    this.out.info(`collection ${collection.id} at ${base}`);

    const uploaded: Uploaded[] = [];
    for (const file of SAMPLES) {
      const form = new FormData();
      form.append('collection_id', collection.id);
      form.append('metadata', JSON.stringify({ source: 'demo', sample: file }));
      form.append('file', new Blob([fs.readFileSync(path.join(fixtures, file))]), file);
      const started = performance.now();
      const answer = await api<{ document_id: string }>('POST', '/v1/documents', undefined, form);
      this.out.info(
        `uploaded ${file.padEnd(24)} → ${answer.document_id} in ${(performance.now() - started).toFixed(0)} ms`,
      );
      uploaded.push({ file, id: answer.document_id });
    }

    const finals = await Promise.all(uploaded.map((doc) => this.follow(base, key, doc)));

    this.out.info('');
    const results = [];
    for (const [i, doc] of uploaded.entries()) {
      const final = finals[i];
      const chunks = await api<{ items: { text: string; page: number | null }[]; total: number }>(
        'GET',
        `/v1/documents/${doc.id}/chunks?limit=1`,
      );
      const first = chunks.items[0];
      results.push({
        file: doc.file,
        document_id: doc.id,
        status: final.status,
        chunks: chunks.total,
        first_chunk: first?.text ?? null,
      });
      this.out.info(
        `${doc.file}: ${final.status}, ${chunks.total} chunk(s)${final.error ? ` — ${final.error}` : ''}`,
      );
      if (first) {
        const preview = first.text.replace(/\s+/g, ' ').slice(0, 160);
        this.out.info(
          `    ${first.page ? `[p.${first.page}] ` : ''}${preview}${first.text.length > 160 ? '…' : ''}`,
        );
      }
    }
    if (this.out.json)
      this.out.result({ collection_id: collection.id, documents: results }, () => '');
    if (finals.some((f) => f.status !== 'completed')) process.exitCode = 1;
  }

  /** Reads the document's event stream until a terminal status, printing each change. */
  private async follow(base: string, key: string, doc: Uploaded): Promise<StatusEvent> {
    const res = await fetch(`${base}/v1/documents/${doc.id}/events`, {
      headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream' },
    });
    if (!res.ok || !res.body) throw new Error(`events of ${doc.file}: ${res.status}`);
    const decoder = new TextDecoder();
    let buffer = '';
    let last: StatusEvent | undefined;
    let lastLine = '';
    for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(part, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).trim())
          .join('\n');
        if (!data) continue;
        last = JSON.parse(data) as StatusEvent;
        const line = `${doc.file.padEnd(24)} ${last.status.padEnd(10)} ${(last.stage ?? '').padEnd(10)} ${String(last.progress).padStart(3)}%  ${last.chunks_done}/${last.chunks_total} chunks`;
        if (line !== lastLine) this.out.info(line);
        lastLine = line;
        if (TERMINAL.has(last.status)) return last;
      }
    }
    if (!last) throw new Error(`no events for ${doc.file}`);
    return last;
  }

  @Option({ flags: '--url <url>', description: 'api base URL (default http://127.0.0.1:$PORT)' })
  parseUrl(value: string): string {
    return value;
  }

  @Option({
    flags: '--key <key>',
    description: 'API key (default QUARRY_API_KEY or the development key)',
  })
  parseKey(value: string): string {
    return value;
  }

  @Option({ flags: '--json', description: 'machine-readable summary' })
  parseJson(): boolean {
    this.out.json = true;
    return true;
  }
}

function findFixtures(): string {
  let dir = __dirname;
  for (;;) {
    const candidate = path.join(dir, 'libs/pipeline/test/fixtures');
    if (fs.existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('sample documents not found (libs/pipeline/test/fixtures)');
    dir = parent;
  }
}
