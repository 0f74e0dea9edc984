import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { QuarryConfig } from '@quarry/config';
import {
  DocumentEvent,
  DocumentEventsService,
  DocumentsService,
  Principal,
  TERMINAL_STATUSES,
  toEvent,
} from '@quarry/documents';
import type { Request, Response } from 'express';
import { AbuseLimitsService } from '../limits/abuse-limits.service';

export interface EventStreamTimings {
  /** how often the quiet streams' documents are read from PostgreSQL, all in one query */
  pollMs: number;
  /** comment lines that keep proxies from closing an idle stream */
  heartbeatMs: number;
}

export const DEFAULT_STREAM_TIMINGS: EventStreamTimings = { pollMs: 2_000, heartbeatMs: 15_000 };

/** At most this many documents are read per sweep; the quietest go first. */
const SWEEP_BATCH = 500;

interface OpenStream {
  documentId: string;
  lastHeard: number;
  send(event: DocumentEvent): void;
  keepAlive(): void;
  close(): void;
}

/**
 * Server-Sent Events for one document: the current state first, then every change the
 * worker publishes, until a terminal status. Redis pub/sub is fast but best effort, so
 * one timer per process (not per stream) reads the documents of streams that have been
 * quiet, in one query, and repeats are not sent twice. Each key may hold
 * SSE_MAX_STREAMS_PER_KEY streams at once, each at most SSE_MAX_STREAM_MS.
 */
@Injectable()
export class DocumentEventStreamService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('DocumentEventStream');
  private readonly open = new Set<OpenStream>();
  private sweeper?: NodeJS.Timeout;
  private heartbeat?: NodeJS.Timeout;
  private sweeping = false;
  private currentTimings: EventStreamTimings = DEFAULT_STREAM_TIMINGS;

  constructor(
    private readonly documents: DocumentsService,
    private readonly events: DocumentEventsService,
    private readonly limits: AbuseLimitsService,
    private readonly config: QuarryConfig,
  ) {}

  get timings(): EventStreamTimings {
    return this.currentTimings;
  }

  set timings(value: EventStreamTimings) {
    this.currentTimings = value;
    this.stopTimers();
    if (this.open.size > 0) this.startTimers();
  }

  get openStreams(): number {
    return this.open.size;
  }

  /** The document must exist for this owner: checked before any byte of the stream is sent. */
  async stream(
    principal: Principal,
    documentId: string,
    req: Request,
    res: Response,
  ): Promise<void> {
    await this.documents.get(principal.ownerId, documentId);
    const releaseSlot = await this.limits.openStream(principal.keyId);

    let sequence = 0;
    let lastKey = '';
    let generation = 0;
    let closed = false;
    let ready = false;
    const early: DocumentEvent[] = [];
    const held: { unsubscribe?: () => Promise<void>; deadline?: NodeJS.Timeout } = {};

    const stream: OpenStream = {
      documentId,
      lastHeard: Date.now(),
      send: (event) => {
        if (closed || event.generation < generation) return;
        const key = [
          event.generation,
          event.status,
          event.stage,
          event.progress,
          event.chunks_done,
          event.chunks_total,
          event.error,
        ].join('|');
        if (key === lastKey) return;
        lastKey = key;
        generation = event.generation;
        sequence += 1;
        res.write(`id: ${sequence}\nevent: status\ndata: ${JSON.stringify(event)}\n\n`);
        if (TERMINAL_STATUSES.includes(event.status)) stream.close();
      },
      keepAlive: () => {
        if (!closed && ready) res.write(`: keep-alive\n\n`);
      },
      close: () => {
        if (closed) return;
        closed = true;
        this.open.delete(stream);
        if (this.open.size === 0) this.stopTimers();
        if (held.deadline) clearTimeout(held.deadline);
        releaseSlot();
        held.unsubscribe?.().catch(() => undefined);
        if (!res.writableEnded) res.end();
      },
    };
    this.open.add(stream);
    if (this.open.size === 1) this.startTimers();
    req.on('close', stream.close);
    // The client reconnects (SSE `retry`), so a long stream gives its slot back in time.
    held.deadline = setTimeout(stream.close, this.config.limits.streamMaxMs);

    try {
      // Subscribe before reading the current state so nothing falls between the two.
      held.unsubscribe = await this.events.subscribe(documentId, (event) => {
        stream.lastHeard = Date.now();
        if (ready) stream.send(event);
        else early.push(event);
      });
    } catch (err) {
      stream.close();
      throw err;
    }
    if (closed) return;

    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('Connection', 'keep-alive');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    res.write(`retry: ${this.currentTimings.pollMs}\n\n`);

    const current = await this.readCurrent(principal.ownerId, documentId);
    if (!current) {
      stream.close();
      return;
    }
    // Events that arrived while reading may be newer than what was read; older ones repeat it.
    stream.send(current);
    ready = true;
    for (const event of early.splice(0)) stream.send(event);
  }

  private startTimers(): void {
    this.sweeper = setInterval(() => void this.sweep(), this.currentTimings.pollMs);
    this.heartbeat = setInterval(() => {
      for (const stream of this.open) stream.keepAlive();
    }, this.currentTimings.heartbeatMs);
  }

  private stopTimers(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.sweeper = undefined;
    this.heartbeat = undefined;
  }

  /**
   * Reads PostgreSQL only for streams pub/sub has left quiet: a document whose worker
   * publishes as it goes costs no queries, and all the others cost one query together.
   */
  private async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const quietSince = Date.now() - this.currentTimings.pollMs / 2;
      const quiet = [...this.open]
        .filter((s) => s.lastHeard < quietSince)
        .sort((a, b) => a.lastHeard - b.lastHeard)
        .slice(0, SWEEP_BATCH);
      if (quiet.length === 0) return;
      const ids = [...new Set(quiet.map((s) => s.documentId))];
      const byId = new Map((await this.documents.getMany(ids)).map((d) => [d.id, toEvent(d)]));
      const now = Date.now();
      for (const stream of quiet) {
        stream.lastHeard = now;
        const event = byId.get(stream.documentId);
        if (event) stream.send(event);
      }
    } catch (err) {
      this.logger.debug(`stream sweep failed: ${String(err)}`);
    } finally {
      this.sweeping = false;
    }
  }

  private async readCurrent(ownerId: string, documentId: string): Promise<DocumentEvent | null> {
    try {
      return toEvent(await this.documents.get(ownerId, documentId));
    } catch (err) {
      this.logger.debug(`state of ${documentId} not read: ${String(err)}`);
      return null;
    }
  }

  /** Open streams would hold the HTTP drain for its whole grace period; end them first. */
  beforeApplicationShutdown(): void {
    for (const stream of [...this.open]) stream.close();
  }
}
