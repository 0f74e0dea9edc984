import { Presets, SingleBar } from 'cli-progress';
import type { CliOutput } from '../cli-output';

/**
 * Progress of a long operation: a cli-progress bar (with rate and ETA) on a terminal,
 * plain throttled lines otherwise, so logs and CI output stay readable. With --json the
 * lines go to stderr and stdout keeps the one JSON document.
 */
export class ProgressDisplay {
  private bar?: SingleBar;
  private total = 0;
  private lastLine = 0;
  private lastValue = -1;

  constructor(
    private readonly out: CliOutput,
    private readonly label: string,
    private readonly unit = 'items',
    private readonly lineEveryMs = 1_000,
  ) {}

  start(total: number, value = 0, detail = ''): void {
    this.total = total;
    // nothing to wait for needs no bar (cli-progress cannot estimate a 0 of 0)
    if (this.out.isTty && process.stderr.isTTY && total > 0) {
      this.bar = new SingleBar(
        {
          format: `${this.label} [{bar}] {percentage}% | {value}/{total} ${this.unit} | {rate}/s | ETA {eta_formatted} {detail}`,
          hideCursor: true,
          etaBuffer: 50,
        },
        Presets.shades_classic,
      );
      this.bar.start(total, value, { rate: '0.0', detail });
      return;
    }
    this.line(value, 0, detail, true);
  }

  update(value: number, { rate = 0, detail = '' }: { rate?: number; detail?: string } = {}): void {
    if (this.bar) {
      this.bar.update(value, { rate: rate.toFixed(1), detail });
      return;
    }
    this.line(value, rate, detail, value >= this.total);
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }

  private line(value: number, rate: number, detail: string, force: boolean): void {
    const now = Date.now();
    // unchanged values print again only every few seconds, as a sign of life
    if (value === this.lastValue && now - this.lastLine < this.lineEveryMs * 5) return;
    if (!force && now - this.lastLine < this.lineEveryMs) return;
    this.lastLine = now;
    this.lastValue = value;
    const percent = this.total > 0 ? Math.floor((value / this.total) * 100) : 100;
    const text = `${this.label}: ${value}/${this.total} ${this.unit} (${percent}%)${rate > 0 ? `, ${rate.toFixed(1)}/s` : ''}${detail ? ` ${detail}` : ''}`;
    if (this.out.json) process.stderr.write(`${text}\n`);
    else this.out.info(text);
  }
}
