/*
 * Ingestion efficiency: the pipeline alone (extract → chunk → embed → upsert, in this
 * process, one document after another, into a fresh collection on the same Qdrant
 * emulator) against the whole system on the same corpus (upload everything over HTTP to
 * the production api, one worker ingests; timed from the first upload until the last
 * document is `completed`). efficiency = pipeline time ÷ end-to-end time; goal ≥ 0.85.
 *   npm run bench:ingest   → bench/results/ingest.json
 *
 * Concurrency: the pipeline runs one document at a time on one event loop; the system runs
 * one worker process with its default WORKER_CONCURRENCY (4, as compose and the k8s
 * overlays run it), whose extraction of PDF/DOCX happens in a thread and whose embedding
 * runs on the worker's own event loop: the CPU work is as sequential as the pipeline's,
 * and the jobs overlap only their waits (PostgreSQL, Qdrant). The uploads go in from
 * BENCH_UPLOAD_CLIENTS (8) concurrent clients, as fast as the api takes them: the worker
 * always has work queued. Runs are ordered pipeline, system, system, pipeline (ABBA) so a
 * trend in the shared machine's load falls on both alike.
 * Both sides first ingest the whole corpus once, untimed: the figures are those of
 * long-running processes (JIT-compiled hot paths, full connection pools), not of a first
 * pass. BENCH_INGEST_WARMUP=short warms on one copy of each sample and two texts only.
 * Settings: BENCH_COPIES (4 copies of each sample), BENCH_GENERATED (60 texts of 20–200 KB),
 * BENCH_ROUNDS (2), BENCH_UPLOAD_CLIENTS (8), BENCH_INGEST_WARMUP (full).
 */
import { loadConfig } from '@quarry/config';
import { Chunker, DocumentExtractor, createEmbedder } from '@quarry/pipeline';
import { ChunkPoint, QdrantGateway, pointIdFor } from '@quarry/vector';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Client } from 'pg';
import { machineInfo, ratio, writeResult } from './support/bench-report';
import { BenchStack } from './support/bench-stack';
import { CorpusDocument, ingestCorpus } from './support/corpus';

const COPIES = Number(process.env.BENCH_COPIES ?? 4);
const GENERATED = Number(process.env.BENCH_GENERATED ?? 60);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const UPLOAD_CLIENTS = Number(process.env.BENCH_UPLOAD_CLIENTS ?? 8);
const SHORT_WARMUP = process.env.BENCH_INGEST_WARMUP === 'short';
const GOAL_EFFICIENCY = 0.85;
const OWNER = 'bench-owner';
const TIMEOUT_MS = 15 * 60_000;

interface RunFigures {
  seconds: number;
  documents: number;
  chunks: number;
  documentsPerSecond: number;
  chunksPerSecond: number;
}

function figures(ms: number, documents: number, chunks: number): RunFigures {
  const seconds = ms / 1000;
  return {
    seconds: Math.round(seconds * 1000) / 1000,
    documents,
    chunks,
    documentsPerSecond: Math.round((documents / seconds) * 10) / 10,
    chunksPerSecond: Math.round(chunks / seconds),
  };
}

interface SystemRunFigures extends RunFigures {
  uploadSeconds: number;
  worker: Record<string, number>;
}

/**
 * Where the worker's time went, from the documents' own timestamps: how long after the
 * first upload it claimed the first document, and the claim-to-completed time summed over
 * documents (above the wall time when jobs overlapped).
 */
async function workerTimeline(
  pg: Client,
  collectionId: string,
  startedAt: number,
): Promise<Record<string, number>> {
  const { rows } = await pg.query<{
    first: Date;
    last: Date;
    busy: number;
    mean: number;
    wait: number;
  }>(
    `SELECT min(processing_started_at) AS first, max(processing_completed_at) AS last,
            sum(extract(epoch FROM processing_completed_at - processing_started_at))::float8 AS busy,
            avg(extract(epoch FROM processing_completed_at - processing_started_at))::float8 * 1000 AS mean,
            avg(extract(epoch FROM processing_started_at - created_at))::float8 AS wait
       FROM documents WHERE collection_id = $1`,
    [collectionId],
  );
  const r = rows[0];
  const round3 = (x: number) => Math.round(x * 1000) / 1000;
  return {
    firstClaimAfterSeconds: round3((r.first.getTime() - startedAt) / 1000),
    claimToCompletedSecondsSummed: round3(r.busy),
    claimToCompletedMeanMs: Math.round(r.mean),
    // 2 would mean both of the worker's job slots were busy all the time.
    meanJobsInFlight: round3(r.busy / ((r.last.getTime() - r.first.getTime()) / 1000)),
    queuedMeanSeconds: round3(r.wait),
  };
}

/** The pipeline alone, exactly the worker's steps minus PostgreSQL and the queue. */
async function pipelineRun(
  stack: BenchStack,
  corpus: CorpusDocument[],
  round: number,
): Promise<RunFigures> {
  const config = loadConfig({ app: 'worker', env: stack.env() });
  const collection = `${stack.qdrantCollection}_pipeline_${round}`;
  const gateway = new QdrantGateway({
    url: stack.qdrantUrl,
    apiKey: config.qdrant.apiKey,
    collection,
    dimension: config.embedding.dimension,
    timeoutMs: config.qdrant.timeoutMs,
  });
  await gateway.bootstrap();
  const extractor = new DocumentExtractor();
  const chunker = new Chunker(config.chunking);
  const embedder = createEmbedder({
    provider: config.embedding.provider,
    model: config.embedding.model,
    dimension: config.embedding.dimension,
  });
  const batchSize = config.embedding.batchSize;
  const collectionId = randomUUID();
  try {
    // The extraction thread starts on first use; warm it outside the timed run as the
    // long-running worker has.
    await extractor.extract(corpus[0].bytes, { filename: corpus[0].name });
    let chunkCount = 0;
    const started = performance.now();
    for (const doc of corpus) {
      const documentId = randomUUID();
      const extracted = await extractor.extract(doc.bytes, { filename: doc.name });
      const chunks = chunker.chunkDocument(extracted);
      for (let start = 0; start < chunks.length; start += batchSize) {
        const batch = chunks.slice(start, start + batchSize);
        const vectors = await embedder.embed(batch.map((c) => c.text));
        const points: ChunkPoint[] = batch.map((chunk, i) => ({
          id: pointIdFor(documentId, 1, chunk.ordinal),
          vector: vectors[i],
          payload: {
            document_id: documentId,
            collection_id: collectionId,
            owner_id: OWNER,
            generation: 1,
            ordinal: chunk.ordinal,
          },
        }));
        await gateway.upsertChunks(points);
      }
      chunkCount += chunks.length;
    }
    return figures(performance.now() - started, corpus.length, chunkCount);
  } finally {
    await extractor.close();
    await gateway.deleteCollection().catch(() => undefined);
    await gateway.close();
  }
}

async function upload(
  apiUrl: string,
  key: string,
  collectionId: string,
  doc: CorpusDocument,
): Promise<void> {
  const headers = { authorization: `Bearer ${key}` };
  let res: Response;
  if (doc.text !== undefined) {
    res = await fetch(`${apiUrl}/v1/documents/text?force=true`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ title: doc.name, text: doc.text, collection_id: collectionId }),
    });
  } else {
    const form = new FormData();
    form.set('collection_id', collectionId);
    form.set('file', new Blob([new Uint8Array(doc.bytes)]), doc.name);
    res = await fetch(`${apiUrl}/v1/documents?force=true`, { method: 'POST', headers, body: form });
  }
  const body = await res.text();
  if (res.status !== 202) throw new Error(`upload of ${doc.name} answered ${res.status}: ${body}`);
}

/** The whole system: upload over HTTP, wait until the worker has completed every document. */
async function systemRun(
  stack: BenchStack,
  apiUrl: string,
  key: string,
  corpus: CorpusDocument[],
  round: number,
): Promise<SystemRunFigures> {
  const created = await fetch(`${apiUrl}/v1/collections`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `bench round ${round}` }),
  });
  const { id: collectionId } = (await created.json()) as { id: string };
  const pg = await stack.pg();
  try {
    const startedAt = Date.now();
    let next = 0;
    const client = async () => {
      while (next < corpus.length) {
        const index = next++;
        await upload(apiUrl, key, collectionId, corpus[index]);
      }
    };
    await Promise.all(Array.from({ length: UPLOAD_CLIENTS }, client));
    const uploadSeconds = (Date.now() - startedAt) / 1000;

    const deadline = Date.now() + TIMEOUT_MS;
    for (;;) {
      const { rows } = await pg.query<{ done: string; failed: string; chunks: string; last: Date }>(
        `SELECT count(*) FILTER (WHERE status = 'completed') AS done,
                count(*) FILTER (WHERE status = 'failed') AS failed,
                coalesce(sum(chunk_count), 0) AS chunks,
                max(processing_completed_at) AS last
           FROM documents WHERE collection_id = $1`,
        [collectionId],
      );
      const row = rows[0];
      if (Number(row.failed) > 0) throw new Error(`${row.failed} documents failed to ingest`);
      if (Number(row.done) === corpus.length) {
        // The end is the worker's own completion time, not when this poll noticed it.
        const run = figures(row.last.getTime() - startedAt, corpus.length, Number(row.chunks));
        return {
          ...run,
          uploadSeconds: Math.round(uploadSeconds * 1000) / 1000,
          worker: await workerTimeline(pg, collectionId, startedAt),
        };
      }
      if (Date.now() > deadline) throw new Error(`only ${row.done}/${corpus.length} completed`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await pg.end();
  }
}

async function main(): Promise<void> {
  const machineAtStart = machineInfo();
  const corpus = ingestCorpus(COPIES, GENERATED);
  const corpusBytes = corpus.reduce((n, d) => n + d.bytes.length, 0);
  console.log(
    `ingest: ${corpus.length} documents (${(corpusBytes / 2 ** 20).toFixed(1)} MiB), ` +
      `${ROUNDS} rounds of pipeline and system (ABBA)`,
  );
  const stack = await BenchStack.start('ingest');
  try {
    const worker = await stack.startWorker();
    const { url: apiUrl } = await stack.startApi();
    const key = await stack.createApiKey(OWNER);

    // Untimed warm-up of both sides on the whole corpus, as long-running processes would
    // be: JIT, connection pools and the worker's extraction thread. After a short one the
    // first timed system run still ran 0.3–0.6 s slower than the second.
    const warmup = SHORT_WARMUP ? ingestCorpus(1, 2) : corpus;
    await pipelineRun(stack, warmup, -1);
    await systemRun(stack, apiUrl, key, warmup, -1);

    const pipeline: RunFigures[] = [];
    const system: SystemRunFigures[] = [];
    const order: Array<'pipeline' | 'system'> = [];
    for (let r = 0; r < ROUNDS; r++)
      order.push(
        ...(r % 2 === 0 ? (['pipeline', 'system'] as const) : (['system', 'pipeline'] as const)),
      );
    for (const [i, kind] of order.entries()) {
      if (kind === 'pipeline') {
        const run = await pipelineRun(stack, corpus, i);
        pipeline.push(run);
        console.log(
          `  pipeline ${run.seconds.toFixed(2)} s  ${run.documentsPerSecond} docs/s  ${run.chunksPerSecond} chunks/s`,
        );
      } else {
        const run = await systemRun(stack, apiUrl, key, corpus, i);
        system.push(run);
        console.log(
          `  system   ${run.seconds.toFixed(2)} s  ${run.documentsPerSecond} docs/s  ${run.chunksPerSecond} chunks/s` +
            `  (uploads took ${run.uploadSeconds.toFixed(2)} s)`,
        );
      }
    }
    if (!worker.running) throw new Error(`the worker died during the run:\n${worker.tail()}`);

    const total = (runs: RunFigures[]) => runs.reduce((s, r) => s + r.seconds, 0);
    const pipelineSeconds = total(pipeline);
    const systemSeconds = total(system);
    const efficiency = ratio(pipelineSeconds, systemSeconds);
    const chunksAgree = system.every((s) => s.chunks === pipeline[0].chunks);
    const summary = (runs: RunFigures[]) =>
      figures(
        total(runs) * 1000,
        runs.reduce((n, r) => n + r.documents, 0),
        runs.reduce((n, r) => n + r.chunks, 0),
      );
    const pass = efficiency >= GOAL_EFFICIENCY && chunksAgree;
    const result = {
      benchmark: 'ingest',
      date: new Date().toISOString(),
      machine: machineAtStart,
      inputs: {
        documents: corpus.length,
        bytes: corpusBytes,
        samplesCopies: COPIES,
        generatedTexts: GENERATED,
        rounds: ROUNDS,
        order,
        uploadClients: UPLOAD_CLIENTS,
        warmup: SHORT_WARMUP
          ? 'one copy of each sample and two texts on each side, untimed'
          : 'the whole corpus once on each side, untimed',
        worker: 'one process, NODE_ENV=production, WORKER_CONCURRENCY default (4)',
        pipeline:
          'this process, sequential, same extractor, chunker, embedder, batch size and Qdrant gateway',
      },
      pipeline: { total: summary(pipeline), runs: pipeline },
      system: { total: summary(system), runs: system },
      efficiency,
      chunkCountsAgree: chunksAgree,
      goals: { efficiency: GOAL_EFFICIENCY, met: efficiency >= GOAL_EFFICIENCY },
      pass,
      machineAtEnd: machineInfo(),
    };
    const file = writeResult('ingest', result);
    console.log('');
    console.log(
      `pipeline alone: ${result.pipeline.total.documentsPerSecond} docs/s, ${result.pipeline.total.chunksPerSecond} chunks/s`,
    );
    console.log(
      `api + worker:   ${result.system.total.documentsPerSecond} docs/s, ${result.system.total.chunksPerSecond} chunks/s`,
    );
    console.log(
      `efficiency ${efficiency} (goal ≥ ${GOAL_EFFICIENCY}: ${result.goals.met ? 'met' : 'MISSED'}); ` +
        `chunk counts ${chunksAgree ? 'agree' : 'DIFFER'}`,
    );
    console.log(`written ${file}`);
  } finally {
    await stack.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
