import { Inject, Injectable, Logger } from '@nestjs/common';
import { QuarryConfig } from '@quarry/config';
import { DocumentStatus } from '@quarry/db';
import { ShutdownCoordinator, ShutdownPhase } from '@quarry/observability';
import { CLIENT_REDIS, createRedisConnection } from '@quarry/queue';
import type Redis from 'ioredis';

/** One change of a document's processing state, as the status endpoint shows it. */
export interface DocumentEvent {
  document_id: string;
  generation: number;
  status: DocumentStatus;
  stage: string | null;
  progress: number;
  chunks_done: number;
  chunks_total: number;
  error: string | null;
  at: string;
}

export const TERMINAL_STATUSES: readonly DocumentStatus[] = ['completed', 'failed', 'deleted'];

type Listener = (event: DocumentEvent) => void;

/**
 * Live progress over Redis pub/sub: the worker publishes, any api replica relays to
 * its SSE clients. Best effort by design: PostgreSQL holds the state, and a listener
 * that misses an event catches up from there.
 */
@Injectable()
export class DocumentEventsService {
  private readonly logger = new Logger('DocumentEvents');
  private subscriber?: Redis;
  private subscribed?: Promise<void>;
  private shutdownRegistered = false;
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(
    @Inject(CLIENT_REDIS) private readonly redis: Redis,
    private readonly config: QuarryConfig,
    private readonly shutdown: ShutdownCoordinator,
  ) {}

  private channel(documentId: string): string {
    return `${this.config.redis.prefix}:document-events:${documentId}`;
  }

  async publish(event: DocumentEvent): Promise<void> {
    try {
      await this.redis.publish(this.channel(event.document_id), JSON.stringify(event));
    } catch (err) {
      this.logger.debug(`event for ${event.document_id} not published: ${String(err)}`);
    }
  }

  /**
   * Calls `listener` for each event of this document until the returned function is
   * called. Every listener of the process shares one pattern subscription on one
   * connection: opening a stream costs no Redis command.
   */
  async subscribe(documentId: string, listener: Listener): Promise<() => Promise<void>> {
    await this.ensureSubscribed();
    const channel = this.channel(documentId);
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(channel);
      current?.delete(listener);
      if (current && current.size === 0) this.listeners.delete(channel);
      return Promise.resolve();
    };
  }

  private ensureSubscribed(): Promise<void> {
    this.subscribed ??= this.openSubscriber().catch((err: unknown) => {
      // Let the next stream try again instead of keeping a failed subscription.
      this.subscribed = undefined;
      throw err;
    });
    return this.subscribed;
  }

  private async openSubscriber(): Promise<void> {
    this.subscriber?.disconnect();
    const subscriber = createRedisConnection(
      this.config.redis,
      'client',
      `${this.config.db.applicationName}-events`,
    );
    subscriber.on('pmessage', (_pattern: string, channel: string, message: string) => {
      const set = this.listeners.get(channel);
      if (!set) return;
      let event: DocumentEvent;
      try {
        event = JSON.parse(message) as DocumentEvent;
      } catch {
        return;
      }
      for (const listener of set) listener(event);
    });
    this.subscriber = subscriber;
    if (!this.shutdownRegistered) {
      this.shutdownRegistered = true;
      this.shutdown.register({
        name: 'redis (document events)',
        phase: ShutdownPhase.Redis,
        close: () => {
          this.subscriber?.disconnect();
        },
      });
    }
    await subscriber.psubscribe(`${globEscape(this.config.redis.prefix)}:document-events:*`);
  }
}

/** A Redis glob matching `text` literally. */
function globEscape(text: string): string {
  let out = '';
  for (const ch of text) out += '*?[]\\'.includes(ch) ? `\\${ch}` : ch;
  return out;
}
