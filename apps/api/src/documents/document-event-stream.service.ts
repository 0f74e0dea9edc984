import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import {
  DocumentEvent,
  DocumentEventsService,
  DocumentsService,
  TERMINAL_STATUSES,
  toEvent,
} from '@quarry/documents';
import type { Request, Response } from 'express';

export interface EventStreamTimings {
  /** how often PostgreSQL is read in case pub/sub missed something */
  pollMs: number;
  /** comment lines that keep proxies from closing an idle stream */
  heartbeatMs: number;
}

export const DEFAULT_STREAM_TIMINGS: EventStreamTimings = { pollMs: 2_000, heartbeatMs: 15_000 };

/**
 * Server-Sent Events for one document: the current state first, then every change the
 * worker publishes, until a terminal status. Redis pub/sub is fast but best effort, so
 * the stream also reads PostgreSQL every couple of seconds; either source may see a
 * state first, and repeats are not sent twice.
 */
@Injectable()
export class DocumentEventStreamService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('DocumentEventStream');
  private readonly open = new Set<() => void>();
  timings: EventStreamTimings = DEFAULT_STREAM_TIMINGS;

  constructor(
    private readonly documents: DocumentsService,
    private readonly events: DocumentEventsService,
  ) {}

  get openStreams(): number {
    return this.open.size;
  }

  /** The document must exist for this owner: checked before any byte of the stream is sent. */
  async stream(ownerId: string, documentId: string, req: Request, res: Response): Promise<void> {
    await this.documents.get(ownerId, documentId);

    let sequence = 0;
    let lastKey = '';
    let generation = 0;
    let closed = false;
    let ready = false;
    let lastHeard = Date.now();
    const early: DocumentEvent[] = [];

    const send = (event: DocumentEvent): void => {
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
      if (TERMINAL_STATUSES.includes(event.status)) close();
    };

    const held: {
      unsubscribe?: () => Promise<void>;
      poll?: NodeJS.Timeout;
      heartbeat?: NodeJS.Timeout;
    } = {};
    const close = (): void => {
      if (closed) return;
      closed = true;
      this.open.delete(close);
      if (held.poll) clearInterval(held.poll);
      if (held.heartbeat) clearInterval(held.heartbeat);
      held.unsubscribe?.().catch(() => undefined);
      if (!res.writableEnded) res.end();
    };
    this.open.add(close);
    req.on('close', close);

    // Subscribe before reading the current state so nothing falls between the two.
    const unsubscribe = await this.events.subscribe(documentId, (event) => {
      lastHeard = Date.now();
      if (ready) send(event);
      else early.push(event);
    });
    held.unsubscribe = unsubscribe;
    if (closed) {
      await unsubscribe();
      return;
    }

    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('Connection', 'keep-alive');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    res.write(`retry: ${this.timings.pollMs}\n\n`);

    const current = await this.readCurrent(ownerId, documentId);
    if (!current) {
      close();
      return;
    }
    // Events that arrived while reading may be newer than what was read; older ones repeat it.
    send(current);
    ready = true;
    for (const event of early.splice(0)) send(event);
    if (closed) return;

    // Read PostgreSQL only while pub/sub is quiet: a document whose worker publishes as
    // it goes costs no queries, and a later event carries any state a lost one had.
    held.poll = setInterval(() => {
      if (Date.now() - lastHeard < this.timings.pollMs / 2) return;
      void this.readCurrent(ownerId, documentId).then((event) => {
        if (event) send(event);
      });
    }, this.timings.pollMs);
    held.heartbeat = setInterval(() => {
      if (!closed) res.write(`: keep-alive\n\n`);
    }, this.timings.heartbeatMs);
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
    for (const close of [...this.open]) close();
  }
}
