import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';

/**
 * The order in which things close (ARCHITECTURE.md): stop being ready, drain HTTP,
 * drain workers, then queues, Redis, Qdrant and finally the database pools that
 * everything before may still be using.
 */
export enum ShutdownPhase {
  Readiness = 0,
  Http = 10,
  Workers = 20,
  Queues = 30,
  Redis = 40,
  Qdrant = 50,
  Database = 60,
}

export interface ShutdownStep {
  name: string;
  phase: ShutdownPhase;
  close: () => Promise<void> | void;
}

export interface ShutdownReport {
  steps: { name: string; phase: ShutdownPhase; ms: number; error?: string }[];
  timedOut: boolean;
}

/**
 * Runs named close steps in phase order under one deadline and logs each. Libraries
 * register their steps instead of closing themselves in their own lifecycle hooks,
 * because Nest does not order hooks across modules the way a drain needs.
 */
@Injectable()
export class ShutdownCoordinator implements OnApplicationShutdown {
  private readonly logger = new Logger('Shutdown');
  private readonly steps: ShutdownStep[] = [];
  private running?: Promise<ShutdownReport>;
  private shuttingDown = false;
  private graceMs = 30_000;

  setGraceMs(ms: number): void {
    this.graceMs = ms;
  }

  register(step: ShutdownStep): void {
    this.steps.push(step);
  }

  /** True from the first signal on; readiness probes answer 503 from then. */
  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  async onApplicationShutdown(signal?: string): Promise<void> {
    await this.shutdown(signal);
  }

  shutdown(reason?: string): Promise<ShutdownReport> {
    this.running ??= this.run(reason);
    return this.running;
  }

  private async run(reason?: string): Promise<ShutdownReport> {
    this.shuttingDown = true;
    const deadline = Date.now() + this.graceMs;
    const ordered = [...this.steps].sort((a, b) => a.phase - b.phase);
    const report: ShutdownReport = { steps: [], timedOut: false };
    this.logger.log(`shutting down (${reason ?? 'requested'}): ${ordered.length} steps`);
    for (const step of ordered) {
      const started = Date.now();
      // Later steps (pools) still get a short slot even when earlier ones overran.
      const budget = Math.max(deadline - started, 1_000);
      let error: string | undefined;
      try {
        await withDeadline(Promise.resolve().then(step.close), budget, step.name);
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
        if (err instanceof StepTimeoutError) report.timedOut = true;
        this.logger.warn(`close step "${step.name}" failed: ${error}`);
      }
      const ms = Date.now() - started;
      report.steps.push({ name: step.name, phase: step.phase, ms, error });
      if (!error) this.logger.log(`closed ${step.name} in ${ms} ms`);
    }
    return report;
  }
}

class StepTimeoutError extends Error {}

async function withDeadline<T>(work: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new StepTimeoutError(`${name} did not close within ${ms} ms`)),
      ms,
    );
    timer.unref();
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
