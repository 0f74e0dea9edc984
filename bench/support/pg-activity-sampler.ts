import { Client } from 'pg';

export interface SessionStates {
  /** samples taken */
  samples: number;
  /** mean number of this application's sessions per sample, by state */
  meanSessions: Record<string, number>;
  /** what active sessions waited on, as a share of active session samples */
  activeWaits: Record<string, number>;
}

/**
 * Samples pg_stat_activity of one database every `intervalMs` while a load runs, grouped
 * by application_name. It tells apart time spent inside PostgreSQL (`active`, and on what
 * it waited) from time a client holds an open transaction between statements (`idle in
 * transaction`: the client's own process is the slow side).
 */
export class PgActivitySampler {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private samples = 0;
  private readonly states = new Map<string, Map<string, number>>();
  private readonly waits = new Map<string, Map<string, number>>();

  constructor(
    private readonly client: Client,
    private readonly database: string,
    private readonly intervalMs = 50,
  ) {}

  start(): void {
    this.samples = 0;
    this.states.clear();
    this.waits.clear();
    const tick = async () => {
      const { rows } = await this.client.query<{
        app: string;
        state: string | null;
        wait: string | null;
      }>(
        `SELECT application_name AS app, state,
                CASE WHEN wait_event IS NULL THEN 'cpu' ELSE wait_event_type || ':' || wait_event END AS wait
           FROM pg_stat_activity
          WHERE datname = $1 AND pid <> pg_backend_pid()`,
        [this.database],
      );
      this.samples++;
      for (const row of rows) {
        const state = row.state ?? 'unknown';
        bump(this.states, row.app, state);
        if (state === 'active') bump(this.waits, row.app, row.wait ?? 'cpu');
      }
    };
    const loop = () => {
      this.running = tick()
        .catch(() => undefined)
        .then(() => {
          if (this.timer !== undefined) this.timer = setTimeout(loop, this.intervalMs);
        });
    };
    this.timer = setTimeout(loop, 0);
  }

  async stop(): Promise<Record<string, SessionStates>> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    const out: Record<string, SessionStates> = {};
    for (const [app, states] of this.states) {
      const activeTotal = [...(this.waits.get(app)?.values() ?? [])].reduce((a, b) => a + b, 0);
      out[app] = {
        samples: this.samples,
        meanSessions: Object.fromEntries(
          [...states].map(([state, n]) => [state, round(n / Math.max(1, this.samples))]),
        ),
        activeWaits: Object.fromEntries(
          [...(this.waits.get(app) ?? [])]
            .sort((a, b) => b[1] - a[1])
            .slice(0, 6)
            .map(([wait, n]) => [wait, round(n / Math.max(1, activeTotal))]),
        ),
      };
    }
    return out;
  }
}

function bump(map: Map<string, Map<string, number>>, app: string, key: string): void {
  let inner = map.get(app);
  if (!inner) map.set(app, (inner = new Map()));
  inner.set(key, (inner.get(key) ?? 0) + 1);
}

const round = (x: number) => Math.round(x * 100) / 100;
