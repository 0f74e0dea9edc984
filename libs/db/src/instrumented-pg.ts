import * as pg from 'pg';
import { classifyDbError, PoolExhaustedError } from './db-errors';
import { DbEvents, PoolRole } from './db-events';

type ConnectCallback = (
  err: Error | undefined,
  client: pg.PoolClient | undefined,
  done: (release?: unknown) => void,
) => void;

type QueryFn = (...args: unknown[]) => unknown;

export interface PoolInstrumentation {
  events: DbEvents;
  acquireTimeoutMs: number;
  roleOf(config: pg.PoolConfig | undefined): PoolRole;
}

/**
 * A pg module whose Pool knows its role and guards the connection discipline for
 * every caller, including TypeORM's own internal query runners:
 * - an acquire timeout becomes PoolExhaustedError (and an event);
 * - a client whose statement failed with a connection-level error is marked broken and
 *   destroyed on release, never returned to the idle list (otherwise it can be handed
 *   out again in the instant before its socket's end event arrives);
 * - an idle client that dies is reported instead of crashing the process (pg-pool
 *   already removes it from the pool).
 */
export function instrumentedPg(instrumentation: PoolInstrumentation): typeof pg {
  const broken = new WeakSet<pg.PoolClient>();
  const inUse = new WeakSet<pg.PoolClient>();
  const patched = new WeakSet<pg.PoolClient>();
  const { events } = instrumentation;

  /** Marks a checked-out client as dead (reported once); it is destroyed on release. */
  const markBroken = (client: pg.PoolClient, role: PoolRole, err: unknown): void => {
    if (broken.has(client)) return;
    broken.add(client);
    events.emit('connection-error', {
      pool: role,
      code: classifyDbError(err).code ?? 'unknown',
      message: err instanceof Error ? err.message : String(err),
      where: 'in-use',
    });
  };

  const watchClient = (client: pg.PoolClient, role: PoolRole): void => {
    if (patched.has(client)) return;
    patched.add(client);
    // While idle in the pool, pg-pool's own listener handles (and reports) this.
    client.on('error', (err: Error) => {
      if (inUse.has(client)) markBroken(client, role, err);
    });
    const original = client.query as unknown as QueryFn;
    const watched: QueryFn = (...args) => {
      const result = original.apply(client, args);
      if (result instanceof Promise) {
        // Registered before the caller's own handler, so the mark is set before it releases.
        result.catch((err: unknown) => {
          if (classifyDbError(err).kind === 'connection-lost') markBroken(client, role, err);
        });
      }
      return result;
    };
    (client as unknown as { query: QueryFn }).query = watched;
  };

  class InstrumentedPool extends pg.Pool {
    readonly role: PoolRole;

    constructor(config?: pg.PoolConfig) {
      super(config);
      this.role = instrumentation.roleOf(config);
      this.on('error', (err: Error) => {
        events.emit('connection-error', {
          pool: this.role,
          code: classifyDbError(err).code ?? 'unknown',
          message: err.message,
          where: 'idle',
        });
      });
    }

    override connect(): Promise<pg.PoolClient>;
    override connect(callback: ConnectCallback): void;
    override connect(callback?: ConnectCallback): Promise<pg.PoolClient> | void {
      if (!callback) {
        return new Promise((resolve, reject) => {
          this.connect((err, client) => (err || !client ? reject(err) : resolve(client)));
        });
      }
      super.connect((err, client, done) => {
        if (err || !client) {
          callback(this.translate(err), undefined, done);
          return;
        }
        watchClient(client, this.role);
        inUse.add(client);
        const release = (releaseErr?: unknown): void => {
          inUse.delete(client);
          if (!releaseErr && broken.has(client)) {
            done(new Error('connection lost; discarding the client'));
            return;
          }
          done(releaseErr);
        };
        callback(undefined, client, release);
      });
    }

    private translate(err: Error | undefined): Error {
      const cause = err ?? new Error('pool returned no client');
      const { kind, code } = classifyDbError(cause);
      if (kind === 'pool-exhausted') {
        events.emit('pool-exhausted', {
          pool: this.role,
          acquireTimeoutMs: instrumentation.acquireTimeoutMs,
          waiting: this.waitingCount,
        });
        return new PoolExhaustedError(this.role, instrumentation.acquireTimeoutMs, cause);
      }
      events.emit('connection-error', {
        pool: this.role,
        code: code ?? 'unknown',
        message: cause.message,
        where: 'connect',
      });
      return cause;
    }
  }

  // Everything else (types, defaults, Client) comes from the real module.
  // defineProperty, not assignment: under tsc's CommonJS interop the namespace exposes
  // `Pool` as a getter-only property that a plain assignment cannot shadow.
  return Object.defineProperty(Object.create(pg) as typeof pg, 'Pool', {
    value: InstrumentedPool,
    enumerable: true,
  });
}
