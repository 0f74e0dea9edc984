/*
 * Hostile traffic against a running api and worker: does ordinary use keep its speed?
 * The normal upload p99, search p99 and /health/live p99 are measured alone, then while a
 * bounded stream of hostile requests runs against the same api and worker (huge and deep
 * JSON with and without a key, bad keys, ReDoS-shaped uploads, a DOCX zip bomb, NUL
 * metadata, an SSE flood), in alternating rounds so drift on this shared machine falls on
 * both alike. Goal: each ratio ≤ 1.5, no process restarted, the api's heap below its limit.
 * Then 32 concurrent 50 MB uploads: the api's peak RSS (goal < 512 MB) and that every
 * answer is a 202 or a 503 (the in-flight byte budget).
 *   npm run bench:hostile   → bench/results/hostile.json
 * Settings: BENCH_ROUNDS (2), BENCH_CLIENTS (4), BENCH_UPLOADS (100 per phase),
 * BENCH_SEARCHES (200 per phase), BENCH_HOSTILE_CONCURRENCY (3), BENCH_HOSTILE_REDOS (true),
 * BENCH_HOSTILE_BOMBS (true), BENCH_BOMB_MB (32, expanded size), BENCH_BIG_UPLOADS (32), BENCH_BIG_UPLOAD_MB (50),
 * BENCH_API_HEAP_MB (768, as in k8s/base).
 */
import JSZip from 'jszip';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { BenchProcess } from './support/bench-process';
import {
  LatencySummary,
  formatMs,
  machineInfo,
  ratio,
  summarise,
  writeResult,
} from './support/bench-report';
import { BenchStack } from './support/bench-stack';
import { syntheticText } from './support/corpus';
import { HttpTarget, closedLoop } from './support/http-load';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 4);
const UPLOADS = Number(process.env.BENCH_UPLOADS ?? 100);
const SEARCHES = Number(process.env.BENCH_SEARCHES ?? 200);
const HOSTILE_CONCURRENCY = Number(process.env.BENCH_HOSTILE_CONCURRENCY ?? 3);
const HOSTILE_REDOS = process.env.BENCH_HOSTILE_REDOS !== 'false';
const HOSTILE_BOMBS = process.env.BENCH_HOSTILE_BOMBS !== 'false';
const BIG_UPLOADS = Number(process.env.BENCH_BIG_UPLOADS ?? 32);
const BIG_UPLOAD_BYTES = Number(process.env.BENCH_BIG_UPLOAD_MB ?? 50) * 1024 * 1024;
const API_HEAP_MB = Number(process.env.BENCH_API_HEAP_MB ?? 768);
const SSE_FLOOD = 60;
const BOMB_MB = Number(process.env.BENCH_BOMB_MB ?? 32);
const GOAL_RATIO = 1.5;
const GOAL_BIG_RSS_MB = 512;
const DOC_BYTES = 10 * 1024;

type Phase = 'alone' | 'hostile';
interface PhaseSamples {
  upload: number[];
  search: number[];
  live: number[];
}

/** Resident and peak memory of a process, from /proc (Linux), in MB. */
function memoryOf(pid: number | undefined): { rssMb: number; peakMb: number } {
  if (!pid) return { rssMb: 0, peakMb: 0 };
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string): number => {
      const line = status.split('\n').find((l) => l.startsWith(`${name}:`));
      return line ? Number(line.split(/\s+/)[1]) / 1024 : 0;
    };
    return { rssMb: Math.round(field('VmRSS')), peakMb: Math.round(field('VmHWM')) };
  } catch {
    return { rssMb: 0, peakMb: 0 };
  }
}

/** The api's V8 heap in use, read from its metrics port, in MB. */
async function heapUsedMb(metricsUrl: string): Promise<number> {
  try {
    const text = await (await fetch(`${metricsUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('nodejs_heap_size_used_bytes'));
    return line ? Math.round(Number(line.split(' ').pop()) / 1024 / 1024) : 0;
  } catch {
    return 0;
  }
}

/** A DOCX whose document.xml expands from a few hundred KB to `expandedMb`. */
async function zipBomb(expandedMb: number): Promise<Buffer> {
  const zip = new JSZip();
  zip.file(
    '[Content_Types].xml',
    '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
      '<Default Extension="xml" ContentType="application/xml"/>' +
      '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
  );
  zip.file(
    '_rels/.rels',
    '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
      '<Relationship Id="r1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
  );
  const run = '<w:p><w:r><w:t>bomb bomb bomb bomb bomb bomb bomb bomb</w:t></w:r></w:p>';
  const body = run.repeat(Math.ceil((expandedMb * 1024 * 1024) / run.length));
  zip.file(
    'word/document.xml',
    `<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${body}</w:body></w:document>`,
  );
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
}

function multipart(
  fields: Record<string, string>,
  file: { name: string; bytes: Buffer; type: string },
): { body: Buffer; type: string } {
  const boundary = `----hostile${randomBytes(6).toString('hex')}`;
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
      ),
    );
  }
  parts.push(
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\nContent-Type: ${file.type}\r\n\r\n`,
    ),
    file.bytes,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  );
  return { body: Buffer.concat(parts), type: `multipart/form-data; boundary=${boundary}` };
}

/**
 * The hostile mix, as functions that each send one request and return its status (0 when
 * the api closed the connection before answering, which counts as a refusal).
 */
async function hostileMix(
  apiUrl: string,
  attackerKey: string,
  collectionId: string,
): Promise<Array<{ name: string; send: () => Promise<number> }>> {
  const raw = (
    path: string,
    headers: Record<string, string>,
    body: Buffer | string,
  ): Promise<number> =>
    new Promise((resolve) => {
      const payload = Buffer.isBuffer(body) ? body : Buffer.from(body);
      const req = request(new URL(path, apiUrl), {
        method: 'POST',
        agent: false,
        headers: { ...headers, 'content-length': String(payload.length) },
      });
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', () => resolve(0));
      req.setTimeout(60_000, () => req.destroy());
      req.end(payload);
    });
  // Each attacker comes from an address of its own (the api trusts a loopback proxy).
  const from = () => ({ 'x-forwarded-for': `198.51.100.${1 + Math.floor(Math.random() * 200)}` });
  const withKey = { authorization: `Bearer ${attackerKey}` };
  const json = { 'content-type': 'application/json' };
  // ~21 MB without a key (refused from its headers), ~5 MB with one (read, then refused
  // for its 1.7 million values before it is parsed).
  const hugeJson = Buffer.from(`{"text":"x","a":[${'{},'.repeat(7_000_000)}{}]}`);
  const bigJson = Buffer.from(`{"text":"x","a":[${'{},'.repeat(1_700_000)}{}]}`);
  const deepJson = `{"query":"x","filter":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
  const mix: Array<{ name: string; send: () => Promise<number> }> = [
    {
      name: 'huge JSON, no key',
      send: () => raw('/v1/documents/text', { ...json, ...from() }, hugeJson),
    },
    {
      name: 'huge JSON, with key',
      send: () => raw('/v1/documents/text', { ...json, ...withKey }, bigJson),
    },
    {
      name: 'deep JSON, with key',
      send: () => raw('/v1/search', { ...json, ...withKey }, deepJson),
    },
    { name: 'deep JSON, no key', send: () => raw('/v1/search', { ...json, ...from() }, deepJson) },
    {
      name: 'bad key',
      send: () =>
        raw(
          '/v1/search',
          {
            ...json,
            ...from(),
            authorization: `Bearer qk_${randomBytes(24).toString('base64url')}`,
          },
          '{"query":"x"}',
        ),
    },
    {
      name: 'NUL metadata',
      send: () =>
        raw(
          '/v1/documents/text',
          { ...json, ...withKey },
          `{"title":"t","text":"nul ${randomBytes(6).toString('hex')}","collection_id":"${collectionId}","metadata":{"k":"\\u0000"}}`,
        ),
    },
  ];
  if (HOSTILE_REDOS) {
    mix.push(
      {
        name: 'ReDoS HTML sniffing (text upload)',
        send: () =>
          raw(
            '/v1/documents/text',
            { ...json, ...withKey },
            JSON.stringify({
              title: `redos ${randomBytes(6).toString('hex')}`,
              text: `${'<!---->'.repeat(28)}x`,
              collection_id: collectionId,
            }),
          ),
      },
      {
        name: 'ReDoS trailing whitespace (text upload)',
        send: () =>
          raw(
            '/v1/documents/text',
            { ...json, ...withKey },
            JSON.stringify({
              title: `spaces ${randomBytes(6).toString('hex')}`,
              text: `a${' '.repeat(200_000)}b${randomBytes(4).toString('hex')}`,
              collection_id: collectionId,
            }),
          ),
      },
    );
  }
  if (HOSTILE_BOMBS) {
    const bomb = await zipBomb(BOMB_MB);
    mix.push({
      name: `DOCX zip bomb (${Math.round(bomb.length / 1024)} KB → ${BOMB_MB} MB)`,
      send: () => {
        // Distinct bytes each time, so the duplicate check does not short-circuit it.
        const bytes = Buffer.concat([bomb, randomBytes(16)]);
        const form = multipart(
          { collection_id: collectionId },
          {
            name: 'bomb.docx',
            bytes,
            type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
          },
        );
        return raw('/v1/documents', { ...withKey, 'content-type': form.type }, form.body);
      },
    });
  }
  return mix;
}

/** Asks /health/live every `intervalMs` until stopped; the latencies of its 200s. */
function probeLive(live: HttpTarget, intervalMs: number): { stop: () => Promise<number[]> } {
  let running = true;
  const samples: number[] = [];
  const probing = (async () => {
    while (running) {
      const answer = await live.send('GET', '/health/live');
      if (answer.status === 200) samples.push(answer.ms);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await probing;
      return samples;
    },
  };
}

/** One measured phase: uploads, searches and the probe together, each from its own clients. */
async function measure(
  api: HttpTarget,
  live: HttpTarget,
  uploadBody: () => string,
  searchBody: () => string,
): Promise<{ samples: PhaseSamples; failures: string[] }> {
  const probe = probeLive(live, 20);
  const [uploads, searches] = await Promise.all([
    closedLoop(CLIENTS, UPLOADS, () => api.postJson('/v1/documents/text', uploadBody()), 202),
    closedLoop(CLIENTS, SEARCHES, () => api.postJson('/v1/search', searchBody()), 200),
  ]);
  const liveSamples = await probe.stop();
  return {
    samples: { upload: uploads.latenciesMs, search: searches.latenciesMs, live: liveSamples },
    failures: [...uploads.failures, ...searches.failures].slice(0, 10),
  };
}

/** Runs the hostile mix with bounded concurrency until stopped; counts statuses per kind. */
function startHostile(mix: Array<{ name: string; send: () => Promise<number> }>): {
  stop: () => Promise<Record<string, Record<string, number>>>;
} {
  let running = true;
  let next = 0;
  const statuses: Record<string, Record<string, number>> = {};
  const loops = Array.from({ length: HOSTILE_CONCURRENCY }, async () => {
    while (running) {
      const item = mix[next++ % mix.length];
      const status = await item.send();
      statuses[item.name] ??= {};
      statuses[item.name][String(status)] = (statuses[item.name][String(status)] ?? 0) + 1;
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return statuses;
    },
  };
}

/** Opens `count` event streams on one key and keeps them open; returns their statuses. */
async function sseFlood(
  apiUrl: string,
  key: string,
  documentId: string,
  count: number,
): Promise<{ statuses: Record<string, number>; close: () => void }> {
  const open: Array<{ destroy: () => void }> = [];
  const statuses: Record<string, number> = {};
  await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<void>((resolve) => {
          const req = request(new URL(`/v1/documents/${documentId}/events`, apiUrl), {
            agent: false,
            headers: { authorization: `Bearer ${key}` },
          });
          req.on('response', (res) => {
            const status = String(res.statusCode ?? 0);
            statuses[status] = (statuses[status] ?? 0) + 1;
            res.resume();
            resolve();
          });
          req.on('error', () => resolve());
          req.end();
          open.push(req);
        }),
    ),
  );
  return { statuses, close: () => open.forEach((r) => r.destroy()) };
}

interface BigUploadResult {
  uploads: number;
  uploadMb: number;
  statuses: Record<string, number>;
  onlyAcceptedOr503: boolean;
  apiPeakRssMb: number;
  goalRssMb: number;
  wallSeconds: number;
  liveDuring: LatencySummary;
  pass: boolean;
}

/** 32 concurrent 50 MB multipart uploads, streamed from one shared buffer. */
async function bigUploads(
  apiUrl: string,
  key: string,
  collectionId: string,
  api: BenchProcess,
  live: HttpTarget,
): Promise<BigUploadResult> {
  // Each file is exactly BIG_UPLOAD_BYTES: a unique 64-byte first line, then shared text.
  const shared = Buffer.alloc(BIG_UPLOAD_BYTES - 64, syntheticText(64 * 1024, 3));
  let peakRssMb = 0;
  const sampler = setInterval(() => {
    peakRssMb = Math.max(peakRssMb, memoryOf(api.pid).rssMb);
  }, 50);
  const probe = probeLive(live, 50);
  const started = performance.now();
  const statuses = await Promise.all(
    Array.from(
      { length: BIG_UPLOADS },
      (_, i) =>
        new Promise<number>((resolve) => {
          const boundary = `----big${i}${randomBytes(4).toString('hex')}`;
          const head = Buffer.from(
            `--${boundary}\r\nContent-Disposition: form-data; name="collection_id"\r\n\r\n${collectionId}\r\n` +
              `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big-${i}.txt"\r\nContent-Type: text/plain\r\n\r\n` +
              `Upload ${i} ${randomBytes(8).toString('hex')}`.padEnd(63, ' ') +
              '\n',
          );
          const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
          const req = request(new URL('/v1/documents', apiUrl), {
            method: 'POST',
            agent: false,
            headers: {
              authorization: `Bearer ${key}`,
              'content-type': `multipart/form-data; boundary=${boundary}`,
              'content-length': String(head.length + shared.length + tail.length),
            },
          });
          req.on('response', (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.on('error', () => resolve(0));
          req.setTimeout(300_000, () => req.destroy());
          req.write(head);
          req.write(shared);
          req.end(tail);
        }),
    ),
  );
  const wallMs = performance.now() - started;
  const liveSamples = await probe.stop();
  clearInterval(sampler);
  const counts: Record<string, number> = {};
  for (const status of statuses) counts[String(status)] = (counts[String(status)] ?? 0) + 1;
  const onlyAcceptedOr503 = statuses.every((s) => s === 202 || s === 503);
  return {
    uploads: BIG_UPLOADS,
    uploadMb: BIG_UPLOAD_BYTES / 1024 / 1024,
    statuses: counts,
    onlyAcceptedOr503,
    apiPeakRssMb: peakRssMb,
    goalRssMb: GOAL_BIG_RSS_MB,
    wallSeconds: Math.round(wallMs / 100) / 10,
    liveDuring: summarise(liveSamples),
    pass: onlyAcceptedOr503 && peakRssMb < GOAL_BIG_RSS_MB,
  };
}

const apiSettings = {
  NODE_OPTIONS: `--max-old-space-size=${API_HEAP_MB}`,
  // The honest client stays under its budgets; the attacker's flood does not.
  RATE_LIMIT_UPLOADS_PER_MIN: '100000',
  RATE_LIMIT_SEARCHES_PER_MIN: '100000',
  // 32 concurrent uploads from one key: the byte budget alone is measured, not the per-key cap.
  UPLOAD_MAX_CONCURRENT_PER_KEY: '64',
};

async function main(): Promise<void> {
  const machineAtStart = machineInfo();
  const loadAtStart = loadavg();
  const stack = await BenchStack.start('hostile');
  const targets: HttpTarget[] = [];
  try {
    const worker = await stack.startWorker();
    const { api: apiProcess, url: apiUrl, metricsUrl } = await stack.startApi(apiSettings);
    const pids = { api: apiProcess.pid, worker: worker.pid };
    const honestKey = await stack.createApiKey('bench-honest');
    const attackerKey = await stack.createApiKey('bench-attacker');
    const api = new HttpTarget(apiUrl, { authorization: `Bearer ${honestKey}` }, CLIENTS * 2);
    const attacker = new HttpTarget(apiUrl, { authorization: `Bearer ${attackerKey}` }, 8);
    const live = new HttpTarget(apiUrl, {}, 1);
    targets.push(api, attacker, live);
    const collection = async (target: HttpTarget): Promise<string> => {
      const created = await target.postJson('/v1/collections', '{"name":"bench"}');
      if (created.status !== 201) throw new Error(`collection not created: ${created.body}`);
      return (JSON.parse(created.body) as { id: string }).id;
    };
    const honestCollection = await collection(api);
    const attackerCollection = await collection(attacker);

    const run = randomBytes(4).toString('hex');
    const shared = JSON.stringify(syntheticText(DOC_BYTES, 11)).slice(1, -1);
    let sent = 0;
    const uploadBody = (): string =>
      `{"title":"doc ${sent}","collection_id":"${honestCollection}","text":"Upload ${run} ${sent++} ${randomBytes(6).toString('hex')}\\n\\n${shared}"}`;
    const words = syntheticText(4096, 5).split(/\s+/).filter(Boolean);
    let asked = 0;
    const searchBody = (): string =>
      JSON.stringify({
        query: `${words[asked++ % words.length]} ${words[(asked * 7) % words.length]}`,
        mode: asked % 2 === 0 ? 'keyword' : 'hybrid',
      });

    // A corpus to search, and one document for the SSE flood to watch.
    const warm = await closedLoop(
      CLIENTS,
      60,
      () => api.postJson('/v1/documents/text', uploadBody()),
      202,
    );
    if (warm.latenciesMs.length !== 60) throw new Error(`warm-up failed: ${warm.failures[0]}`);
    await closedLoop(CLIENTS, 40, () => api.postJson('/v1/search', searchBody()), 200);
    // The SSE flood watches a document that stays `processing` (its heartbeat is set in
    // the future, so the reconciler leaves it alone): a finished one would end each stream
    // at once and give its slot back, and the per-key cap would never be reached.
    const pg = await stack.pg();
    const watchedId = (
      await pg.query<{ id: string }>(
        `INSERT INTO documents (collection_id, owner_id, filename, mime_type, size_bytes, sha256,
                                status, generation, metadata, heartbeat_at)
         VALUES ($1, 'bench-attacker', 'watched.txt', 'text/plain', 1,
                 encode(sha256(random()::text::bytea), 'hex'), 'processing', 1, '{}',
                 now() + interval '1 hour')
         RETURNING id`,
        [attackerCollection],
      )
    ).rows[0].id;
    await pg.end();

    const mix = await hostileMix(apiUrl, attackerKey, attackerCollection);
    console.log(
      `hostile: ${ROUNDS} rounds × (alone, hostile); per phase ${UPLOADS} uploads + ${SEARCHES} searches ` +
        `from ${CLIENTS}+${CLIENTS} clients and a /health/live probe every 20 ms; hostile mix of ` +
        `${mix.length} kinds × ${HOSTILE_CONCURRENCY} concurrent, plus ${SSE_FLOOD} SSE streams`,
    );
    const samples: Record<Phase, PhaseSamples> = {
      alone: { upload: [], search: [], live: [] },
      hostile: { upload: [], search: [], live: [] },
    };
    const hostileStatuses: Record<string, Record<string, number>> = {};
    const sseStatuses: Record<string, number> = {};
    const failures: string[] = [];
    let apiHeapPeakMb = 0;
    let apiRssPeakMb = 0;
    let workerRssPeakMb = 0;
    const memorySampler = setInterval(() => {
      apiRssPeakMb = Math.max(apiRssPeakMb, memoryOf(pids.api).rssMb);
      workerRssPeakMb = Math.max(workerRssPeakMb, memoryOf(pids.worker).rssMb);
      void heapUsedMb(metricsUrl).then((mb) => (apiHeapPeakMb = Math.max(apiHeapPeakMb, mb)));
    }, 500);
    const rounds: Array<Record<string, unknown>> = [];
    for (let round = 0; round < ROUNDS; round++) {
      const order: Phase[] = round % 2 === 0 ? ['alone', 'hostile'] : ['hostile', 'alone'];
      for (const phase of order) {
        let hostile: ReturnType<typeof startHostile> | undefined;
        let flood: Awaited<ReturnType<typeof sseFlood>> | undefined;
        if (phase === 'hostile') {
          flood = await sseFlood(apiUrl, attackerKey, watchedId, SSE_FLOOD);
          for (const [s, n] of Object.entries(flood.statuses))
            sseStatuses[s] = (sseStatuses[s] ?? 0) + n;
          hostile = startHostile(mix);
        }
        const result = await measure(api, live, uploadBody, searchBody);
        if (hostile) {
          for (const [name, counts] of Object.entries(await hostile.stop())) {
            hostileStatuses[name] ??= {};
            for (const [s, n] of Object.entries(counts))
              hostileStatuses[name][s] = (hostileStatuses[name][s] ?? 0) + n;
          }
        }
        flood?.close();
        failures.push(...result.failures.map((f) => `${phase}: ${f}`));
        for (const key of ['upload', 'search', 'live'] as const)
          samples[phase][key].push(...result.samples[key]);
        const s = {
          upload: summarise(result.samples.upload),
          search: summarise(result.samples.search),
          live: summarise(result.samples.live),
        };
        rounds.push({ round: round + 1, phase, upload: s.upload, search: s.search, live: s.live });
        console.log(
          `  round ${round + 1} ${phase.padEnd(7)} upload p99 ${formatMs(s.upload.p99)}  ` +
            `search p99 ${formatMs(s.search.p99)}  live p99 ${formatMs(s.live.p99)}`,
        );
      }
    }
    clearInterval(memorySampler);
    const restarted = {
      api: !apiProcess.running || apiProcess.pid !== pids.api,
      worker: !worker.running || worker.pid !== pids.worker,
    };

    const figures = (phase: Phase): Record<'upload' | 'search' | 'live', LatencySummary> => ({
      upload: summarise(samples[phase].upload),
      search: summarise(samples[phase].search),
      live: summarise(samples[phase].live),
    });
    const alone = figures('alone');
    const underAttack = figures('hostile');
    const ratios = {
      uploadP99: ratio(underAttack.upload.p99, alone.upload.p99),
      searchP99: ratio(underAttack.search.p99, alone.search.p99),
      liveP99: ratio(underAttack.live.p99, alone.live.p99),
    };
    const heapBelowLimit = apiHeapPeakMb < API_HEAP_MB;
    const hostilePass =
      Object.values(ratios).every((r) => r <= GOAL_RATIO) &&
      !restarted.api &&
      !restarted.worker &&
      heapBelowLimit &&
      failures.length === 0;

    // The big uploads measure the api alone: the worker would spend minutes on 1.6 GB of text.
    // The big uploads measure a fresh api alone: the worker would spend minutes on 1.6 GB
    // of text, and the first api's RSS still holds what the hostile phases made it grow to.
    await worker.stop();
    await apiProcess.stop();
    const fresh = await stack.startApi(apiSettings);
    const freshLive = new HttpTarget(fresh.url, {}, 1);
    targets.push(freshLive);
    await new Promise((r) => setTimeout(r, 2_000));
    const idleRssMb = memoryOf(fresh.api.pid).rssMb;
    console.log(
      `big uploads: ${BIG_UPLOADS} concurrent × ${BIG_UPLOAD_BYTES / 1024 / 1024} MB ` +
        `(fresh api, ${idleRssMb} MB RSS idle)`,
    );
    const big = {
      idleRssMb,
      ...(await bigUploads(fresh.url, honestKey, honestCollection, fresh.api, freshLive)),
    };
    console.log(
      `  statuses ${JSON.stringify(big.statuses)}  api peak RSS ${big.apiPeakRssMb} MB ` +
        `(goal < ${GOAL_BIG_RSS_MB})`,
    );

    const result = {
      benchmark: 'hostile',
      date: new Date().toISOString(),
      machine: { ...machineAtStart, loadAverageAtStart: loadAtStart, loadAverageAtEnd: loadavg() },
      settings: {
        rounds: ROUNDS,
        clients: CLIENTS,
        uploadsPerPhase: UPLOADS,
        searchesPerPhase: SEARCHES,
        uploadDocumentBytes: DOC_BYTES,
        hostileConcurrency: HOSTILE_CONCURRENCY,
        hostileKinds: mix.map((m) => m.name),
        sseFloodStreams: SSE_FLOOD,
        apiHeapLimitMb: API_HEAP_MB,
      },
      alone,
      hostile: underAttack,
      ratios,
      goalRatio: GOAL_RATIO,
      hostileStatuses,
      sseStatuses,
      restarted,
      apiHeapPeakMb,
      apiRssPeakMb,
      workerRssPeakMb,
      heapBelowLimit,
      failures,
      rounds,
      bigUploads: big,
      pass: hostilePass && big.pass,
    };
    const file = writeResult('hostile', result);
    console.log(
      `hostile: ratios upload ${ratios.uploadP99}, search ${ratios.searchP99}, live ${ratios.liveP99} ` +
        `(goal ≤ ${GOAL_RATIO}); api heap peak ${apiHeapPeakMb} MB of ${API_HEAP_MB}; ` +
        `restarted ${JSON.stringify(restarted)}; ${hostilePass ? 'PASS' : 'FAIL'} → ${file}`,
    );
    console.log(`  hostile answers: ${JSON.stringify(hostileStatuses)}`);
    console.log(`  SSE flood answers: ${JSON.stringify(sseStatuses)}`);
  } finally {
    for (const target of targets) target.close();
    await stack.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
