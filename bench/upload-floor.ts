/*
 * The floor for the upload benchmark: a bare node:http server doing the work an upload
 * cannot avoid, and nothing else. Per request: read and parse the JSON body, hash the text,
 * sniff its type, then in one transaction the same statements the api's DocumentsService
 * runs (collection ownership, duplicate lookup, INSERT into documents and document_blobs),
 * then the same BullMQ Queue.add (same queue, job name, job id scheme and job options) and
 * a 202. No framework, no authentication, no validation layer, no request logging.
 *
 * Started by bench/upload.bench.ts as its own process with the api's environment plus
 * FLOOR_OWNER_ID; prints `floor listening on <port>`.
 */
import { loadConfig } from '@quarry/config';
import { detectTextType } from '@quarry/pipeline';
import {
  JobName,
  QUEUE_OF,
  createRedisConnection,
  jobIdFor,
  jobOptionsFor,
  type JobOf,
} from '@quarry/queue';
import { Queue } from 'bullmq';
import { createHash } from 'node:crypto';
import { IncomingMessage, ServerResponse, createServer } from 'node:http';
import { Pool } from 'pg';

const config = loadConfig({ app: 'api' });
const ownerId = process.env.FLOOR_OWNER_ID ?? 'bench';

const pool = new Pool({
  connectionString: config.db.url,
  max: config.db.poolMax,
  application_name: 'quarry-bench-floor',
  idleTimeoutMillis: config.db.idleTimeoutMs,
});
pool.on('error', () => undefined);

const redis = createRedisConnection(config.redis, 'producer', 'quarry-bench-floor');
const queue = new Queue(QUEUE_OF[JobName.IngestDocument], {
  connection: redis,
  prefix: config.redis.prefix,
});
queue.on('error', () => undefined);
const policy = {
  ingestMaxAttempts: config.worker.ingestMaxAttempts,
  cleanupMaxAttempts: config.worker.cleanupMaxAttempts,
};

interface TextUpload {
  title: string;
  text: string;
  collection_id: string;
  metadata?: Record<string, unknown>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (chunk: Buffer) => parts.push(chunk));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(json),
  });
  res.end(json);
}

async function upload(input: TextUpload): Promise<{ status: number; body: unknown }> {
  const bytes = Buffer.from(input.text, 'utf8');
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const mimeType = detectTextType(input.text, {});
  const filename = `${input.title}${mimeType === 'text/markdown' ? '.md' : '.txt'}`;
  const client = await pool.connect();
  let document: { id: string; generation: number } | undefined;
  try {
    await client.query('BEGIN');
    const owned = await client.query(`SELECT 1 FROM collections WHERE id = $1 AND owner_id = $2`, [
      input.collection_id,
      ownerId,
    ]);
    if (owned.rowCount === 0) {
      await client.query('ROLLBACK');
      return { status: 404, body: { title: 'collection not found' } };
    }
    const existing = await client.query(
      `SELECT id, status FROM documents WHERE collection_id = $1 AND sha256 = $2
        ORDER BY created_at DESC LIMIT 1`,
      [input.collection_id, sha256],
    );
    const duplicate = existing.rows[0] as { id: string; status: string } | undefined;
    if (duplicate && duplicate.status !== 'deleting' && duplicate.status !== 'deleted') {
      await client.query('ROLLBACK');
      return { status: 200, body: { document_id: duplicate.id, duplicate: true } };
    }
    const inserted = await client.query<{ id: string; generation: number }>(
      `INSERT INTO documents
         (collection_id, owner_id, filename, mime_type, size_bytes, sha256, status, generation, metadata)
       VALUES ($1, $2, $3, $4, $5, $6, 'pending', 1, $7)
       RETURNING id, generation`,
      [
        input.collection_id,
        ownerId,
        filename,
        mimeType,
        bytes.length,
        sha256,
        JSON.stringify(input.metadata ?? {}),
      ],
    );
    document = inserted.rows[0];
    await client.query(`INSERT INTO document_blobs (document_id, content) VALUES ($1, $2)`, [
      document.id,
      bytes,
    ]);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
  const item: JobOf<JobName.IngestDocument> = {
    name: JobName.IngestDocument,
    data: { documentId: document.id, generation: document.generation },
  };
  const jobId = jobIdFor(item);
  await queue.add(item.name, item.data, { ...jobOptionsFor(item.name, policy), jobId });
  return {
    status: 202,
    body: {
      document_id: document.id,
      job_id: jobId,
      status: 'pending',
      status_url: `/v1/documents/${document.id}/status`,
    },
  };
}

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health/live') {
    answer(res, 200, { status: 'ok' });
    return;
  }
  if (req.method !== 'POST' || req.url?.split('?')[0] !== '/v1/documents/text') {
    answer(res, 404, { title: 'not found' });
    return;
  }
  readBody(req)
    .then((raw) => upload(JSON.parse(raw.toString('utf8')) as TextUpload))
    .then(
      ({ status, body }) => answer(res, status, body),
      (err: unknown) => answer(res, 500, { title: String(err) }),
    );
});
server.keepAliveTimeout = 65_000;

server.listen(config.http.port, '127.0.0.1', () => {
  const address = server.address();
  console.log(`floor listening on ${address && typeof address === 'object' ? address.port : ''}`);
});

function shutdown(): void {
  server.close();
  server.closeAllConnections();
  void queue
    .close()
    .then(() => redis.quit())
    .then(() => pool.end())
    .finally(() => process.exit(0));
}
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
