import { Injectable } from '@nestjs/common';
import {
  Counter,
  CounterConfiguration,
  Gauge,
  GaugeConfiguration,
  Histogram,
  HistogramConfiguration,
  Registry,
  collectDefaultMetrics,
} from 'prom-client';
import { MetricName } from './metric-names';

type Labels = readonly string[];

/**
 * One prom-client registry per process. Metrics are created on first use and memoised,
 * so any library can ask for the same metric by name without a central wiring step.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly metrics = new Map<string, Counter | Gauge | Histogram>();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  setDefaultLabels(labels: Record<string, string>): void {
    this.registry.setDefaultLabels(labels);
  }

  counter<L extends string>(
    name: MetricName,
    help: string,
    labelNames: Labels = [],
    extra: Partial<CounterConfiguration<L>> = {},
  ): Counter<L> {
    return this.memo(
      name,
      () =>
        new Counter<L>({
          name,
          help,
          labelNames: labelNames as L[],
          registers: [this.registry],
          ...extra,
        }),
    );
  }

  gauge<L extends string>(
    name: MetricName,
    help: string,
    labelNames: Labels = [],
    extra: Partial<GaugeConfiguration<L>> = {},
  ): Gauge<L> {
    return this.memo(
      name,
      () =>
        new Gauge<L>({
          name,
          help,
          labelNames: labelNames as L[],
          registers: [this.registry],
          ...extra,
        }),
    );
  }

  histogram<L extends string>(
    name: MetricName,
    help: string,
    labelNames: Labels = [],
    extra: Partial<HistogramConfiguration<L>> = {},
  ): Histogram<L> {
    return this.memo(
      name,
      () =>
        new Histogram<L>({
          name,
          help,
          labelNames: labelNames as L[],
          registers: [this.registry],
          ...extra,
        }),
    );
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private memo<T extends Counter | Gauge | Histogram>(name: string, create: () => T): T {
    let metric = this.metrics.get(name);
    if (!metric) {
      metric = create();
      this.metrics.set(name, metric);
    }
    return metric as T;
  }
}
