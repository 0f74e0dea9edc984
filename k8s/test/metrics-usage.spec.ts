import { readFileSync } from 'node:fs';
import { join } from 'node:path';
// The catalogue's own file, not the lib's index: these tests need no Nest or prom-client.
import { MetricNames } from '../../libs/observability/src/metric-names';
import {
  documentedLabels,
  isKnownMetric,
  promqlLabelUses,
  promqlMetricNames,
  promqlSyntaxErrors,
} from './promql-metric-names';
import { k8sDir, parseYamlObjects } from './render';

/** Standard series that Quarry does not define but may alert and chart on. */
const STANDARD_METRICS = [
  'up',
  // prom-client collectDefaultMetrics()
  'process_cpu_seconds_total',
  'process_resident_memory_bytes',
  'nodejs_heap_size_used_bytes',
  'nodejs_heap_size_total_bytes',
  'nodejs_eventloop_lag_p99_seconds',
  // kube-state-metrics
  'kube_deployment_status_replicas_available',
  'kube_deployment_spec_replicas',
  'kube_job_status_failed',
];

const catalogueSource = readFileSync(
  join(k8sDir, '..', 'libs', 'observability', 'src', 'metric-names.ts'),
  'utf8',
);
const catalogue: string[] = Object.values(MetricNames);
/** Histograms, as the catalogue documents them (`/** histogram … *\/` above the entry). */
const histograms = [
  ...catalogueSource.matchAll(/\/\*\*\s*histogram\b[^*]*\*\/\s*\w+:\s*'([^']+)'/g),
].map((m) => m[1]);

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
}
const ruleObjects = parseYamlObjects(
  readFileSync(join(k8sDir, 'monitoring', 'prometheus-rule.yaml'), 'utf8'),
);
const rules: Rule[] = ruleObjects.flatMap((o) =>
  (o.spec.groups as { rules: Rule[] }[]).flatMap((g) => g.rules),
);

interface Panel {
  title: string;
  targets?: { expr: string }[];
  panels?: Panel[];
}
const dashboard = JSON.parse(
  readFileSync(join(k8sDir, 'monitoring', 'dashboards', 'quarry-overview.json'), 'utf8'),
) as { panels: Panel[]; templating: { list: { query?: { query?: string } | string }[] } };
const panels = (list: Panel[]): Panel[] => list.flatMap((p) => [p, ...panels(p.panels ?? [])]);
const templateQuery = (v: { query?: { query?: string } | string }): string =>
  typeof v.query === 'object' ? (v.query.query ?? '') : (v.query ?? '');
const dashboardExprs = [
  ...panels(dashboard.panels).flatMap((p) =>
    (p.targets ?? []).map((t) => ({ where: p.title, expr: t.expr })),
  ),
  // Query variables (label_values(metric, label)); the datasource variable has none.
  ...dashboard.templating.list
    .map((v) => ({ where: 'templating', expr: templateQuery(v) }))
    .filter((e) => e.expr.startsWith('label_values(')),
];

const known = (name: string) => isKnownMetric(name, catalogue, histograms, STANDARD_METRICS);
const exprMetrics = promqlMetricNames;

describe('metric names in alert rules and the dashboard', () => {
  it('finds the histograms the catalogue documents', () => {
    expect(histograms.sort()).toEqual(
      [
        MetricNames.httpRequestDuration,
        MetricNames.jobDuration,
        MetricNames.qdrantRequestDuration,
      ].sort(),
    );
  });

  it('every expression is valid PromQL', () => {
    const all = [
      ...rules.map((r) => ({ where: r.alert ?? r.record, expr: r.expr })),
      ...dashboardExprs,
    ];
    expect(all.filter((e) => promqlSyntaxErrors(e.expr).length > 0)).toEqual([]);
  });

  it('every alert rule uses only exported metrics', () => {
    expect(rules.length).toBeGreaterThanOrEqual(5);
    const unknown = rules.flatMap((r) =>
      exprMetrics(r.expr)
        .filter((n) => !known(n))
        .map((n) => `${r.alert ?? r.record}: ${n}`),
    );
    expect(unknown).toEqual([]);
  });

  it('every dashboard query uses only exported metrics', () => {
    expect(dashboardExprs.length).toBeGreaterThanOrEqual(20);
    const unknown = dashboardExprs.flatMap((e) =>
      exprMetrics(e.expr)
        .filter((n) => !known(n))
        .map((n) => `${e.where}: ${n}`),
    );
    expect(unknown).toEqual([]);
  });

  it('the rules cover each alert the runbook asks for', () => {
    const byMetric = (metric: string) => rules.filter((r) => exprMetrics(r.expr).includes(metric));
    expect(byMetric(MetricNames.jobsFailedTotal).length).toBeGreaterThan(0);
    expect(byMetric(MetricNames.queueOldestWaitingSeconds).length).toBeGreaterThan(0);
    expect(byMetric(MetricNames.integrityStatus).length).toBeGreaterThan(0);
    const poolWaiting = byMetric(MetricNames.dbPoolConnections);
    expect(poolWaiting.some((r) => /state="waiting"/.test(r.expr))).toBe(true);
    expect(byMetric('kube_deployment_status_replicas_available').map((r) => r.alert)).toContain(
      'QuarryWorkerReplicasNotReady',
    );
    const ruleFor = (alert: string) =>
      ruleObjects[0].spec.groups
        .flatMap((g: { rules: (Rule & { for?: string })[] }) => g.rules)
        .find((r: Rule) => r.alert === alert);
    expect(ruleFor('QuarryDbPoolWaiting').for).toBe('5m');
  });

  it('the dashboard charts every catalogued metric', () => {
    const used = new Set(dashboardExprs.flatMap((e) => exprMetrics(e.expr)));
    const base = (n: string) => n.replace(/_(bucket|sum|count)$/, '');
    const charted = new Set([...used].map((n) => (histograms.includes(base(n)) ? base(n) : n)));
    expect(catalogue.filter((n) => !charted.has(n))).toEqual([]);
  });
});

/** Labels every scraped series carries (Prometheus target labels, PodMonitor relabelling). */
const TARGET_LABELS = ['job', 'instance', 'namespace', 'pod', 'container', 'endpoint', 'service'];
const KUBE_STATE_LABELS = ['namespace', 'deployment', 'job_name'];
const catalogueLabels = documentedLabels(catalogueSource);

function labelsOf(metric: string): Map<string, string[] | null> {
  const base = metric.replace(/_(bucket|sum|count)$/, '');
  const labels = new Map<string, string[] | null>(TARGET_LABELS.map((l) => [l, null]));
  const documented = catalogueLabels.get(catalogueLabels.has(metric) ? metric : base);
  for (const [l, v] of documented ?? []) labels.set(l, v);
  if (metric.endsWith('_bucket')) labels.set('le', null);
  if (metric.startsWith('kube_')) for (const l of KUBE_STATE_LABELS) labels.set(l, null);
  return labels;
}

/** Every label an expression matches or groups on must exist on the series it reads. */
function labelProblems(expr: string): string[] {
  const metrics = exprMetrics(expr);
  const problems: string[] = [];
  for (const use of promqlLabelUses(expr)) {
    const scope = use.metric ? [use.metric] : metrics;
    const known = scope.map(labelsOf);
    if (!known.some((l) => l.has(use.label))) {
      problems.push(`${use.label} is not a label of ${scope.join(', ')}`);
      continue;
    }
    const allowed = known.map((l) => l.get(use.label)).find((v) => Array.isArray(v));
    if (
      !allowed ||
      use.value === undefined ||
      use.value.includes('grafana_var_') ||
      use.op?.startsWith('!')
    )
      continue;
    const values = use.op === '=~' ? use.value.split('|') : [use.value];
    for (const v of values)
      if (!allowed.includes(v))
        problems.push(`${use.label}="${v}" is not one of ${allowed.join('|')}`);
  }
  return problems;
}

describe('labels in alert rules and the dashboard', () => {
  it('reads the labels the catalogue documents', () => {
    expect(catalogueLabels.get(MetricNames.dbPoolConnections)).toEqual(
      new Map([
        ['pool', ['primary', 'replica']],
        ['state', ['total', 'idle', 'waiting']],
      ]),
    );
    expect(catalogueLabels.get(MetricNames.dbPoolExhaustedTotal)).toEqual(new Map());
  });

  it('every rule matches and groups on labels its metrics carry, with values they take', () => {
    expect(rules.flatMap((r) => labelProblems(r.expr).map((p) => `${r.alert}: ${p}`))).toEqual([]);
  });

  it('every dashboard query does too', () => {
    expect(
      dashboardExprs.flatMap((e) => labelProblems(e.expr).map((p) => `${e.where}: ${p}`)),
    ).toEqual([]);
  });

  it('flags a wrong label or value', () => {
    expect(
      labelProblems(
        'sum by (status) (rate(quarry_http_request_duration_seconds_count{job="quarry-api"}[5m]))',
      ),
    ).toEqual(['status is not a label of quarry_http_request_duration_seconds_count']);
    expect(labelProblems('quarry_db_pool_connections{state="wait"} > 0')).toEqual([
      'state="wait" is not one of total|idle|waiting',
    ]);
    expect(
      labelProblems(
        'histogram_quantile(0.9, sum by (le) (rate(quarry_job_duration_seconds_bucket[5m])))',
      ),
    ).toEqual([]);
  });
});

describe('promqlMetricNames', () => {
  it('keeps metrics and drops functions, labels, strings, durations and keywords', () => {
    expect(
      promqlMetricNames(
        'histogram_quantile(0.95, sum by (le, route) (rate(quarry_http_request_duration_seconds_bucket{job="quarry-api", route=~"/v1/.*"}[5m])))',
      ),
    ).toEqual(['quarry_http_request_duration_seconds_bucket']);
    expect(
      promqlMetricNames(
        'kube_deployment_status_replicas_available{deployment="w"} < on (namespace, deployment) kube_deployment_spec_replicas offset 5m',
      ),
    ).toEqual(['kube_deployment_spec_replicas', 'kube_deployment_status_replicas_available']);
    expect(promqlMetricNames('max(foo_total offset 5m) > bool 1e3 and on (pod) bar')).toEqual([
      'bar',
      'foo_total',
    ]);
  });

  it('reports PromQL that Prometheus would refuse', () => {
    expect(promqlSyntaxErrors('sum by (queue) (rate(quarry_jobs_failed_total[5m])) > 3')).toEqual(
      [],
    );
    expect(promqlSyntaxErrors('sum by (queue (rate(quarry_jobs_failed_total[5m]))')).not.toEqual(
      [],
    );
    expect(promqlSyntaxErrors('quarry_queue_jobs{state="waiting" > 0')).not.toEqual([]);
    expect(promqlSyntaxErrors('rate(quarry_jobs_failed_total[$__rate_interval])')).toEqual([]);
  });

  it('flags a misspelt or invented metric', () => {
    const names = promqlMetricNames(
      'sum(rate(quarry_jobs_failed[5m])) + quarry_http_request_duration_seconds_total',
    );
    expect(names.filter((n) => !known(n))).toEqual([
      'quarry_http_request_duration_seconds_total',
      'quarry_jobs_failed',
    ]);
    expect(known('quarry_queue_jobs_bucket')).toBe(false); // a gauge has no buckets
    expect(known('quarry_job_duration_seconds_bucket')).toBe(true);
  });
});
