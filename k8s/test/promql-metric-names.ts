import { parser } from '@prometheus-io/lezer-promql';

/**
 * PromQL read with Prometheus's own grammar (the one its web UI uses), so the checks
 * below see what Prometheus sees: syntax errors, the metric of each vector selector, and
 * the labels each matcher and grouping relies on.
 */

/**
 * Grafana's template variables are not PromQL: give them values of the right kind before
 * parsing (`$__rate_interval` is a range; `$namespace` appears inside label values).
 * `label_values(metric, label)` is Grafana's query-variable syntax: keep the metric.
 */
export function fromGrafana(expr: string): string {
  return expr
    .replace(/label_values\(\s*([\w:]+(?:\{[^}]*\})?)\s*,\s*\w+\s*\)/g, '$1')
    .replace(/\$__(rate_)?interval|\$__range/g, '5m')
    .replace(/\$\{?(\w+)\}?/g, 'grafana_var_$1');
}

const tree = (expr: string) => parser.parse(fromGrafana(expr));
const text = (expr: string, node: { from: number; to: number }) =>
  fromGrafana(expr).slice(node.from, node.to);

/** Positions where Prometheus's grammar rejects the expression (empty when it parses). */
export function promqlSyntaxErrors(expr: string): number[] {
  const errors: number[] = [];
  tree(expr).iterate({
    enter: (n) => {
      if (n.type.isError) errors.push(n.from);
    },
  });
  return errors;
}

/** The metric names the expression selects. */
export function promqlMetricNames(expr: string): string[] {
  const names = new Set<string>();
  tree(expr).iterate({
    enter: (n) => {
      if (n.name === 'Identifier' && n.node.parent?.name === 'VectorSelector')
        names.add(text(expr, n.node));
    },
  });
  return [...names].sort();
}

export const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'] as const;

/**
 * Whether a name used in a query is exported: one of `catalogue` (a histogram's series
 * with their _bucket/_sum/_count suffixes, when the catalogue name is a histogram) or one
 * of the standard metrics allowed alongside.
 */
export function isKnownMetric(
  name: string,
  catalogue: readonly string[],
  histograms: readonly string[],
  standard: readonly string[],
): boolean {
  if (standard.includes(name)) return true;
  if (catalogue.includes(name) && !histograms.includes(name)) return true;
  return HISTOGRAM_SUFFIXES.some(
    (s) => name.endsWith(s) && histograms.includes(name.slice(0, -s.length)),
  );
}

export interface LabelUse {
  /** The metric the matcher is attached to; absent for by/on/without lists. */
  metric?: string;
  label: string;
  op?: string;
  value?: string;
}

const unquote = (literal: string): string => {
  if (literal.startsWith('`')) return literal.slice(1, -1);
  return JSON.parse(
    literal.startsWith("'") ? `"${literal.slice(1, -1).replace(/"/g, '\\"')}"` : literal,
  );
};

/** Label names (and matcher values) that a PromQL expression relies on. */
export function promqlLabelUses(expr: string): LabelUse[] {
  const uses: LabelUse[] = [];
  tree(expr).iterate({
    enter: (n) => {
      if (n.name === 'UnquotedLabelMatcher') {
        const selector = n.node.parent?.parent;
        const metricNode =
          selector?.name === 'VectorSelector' ? selector.getChild('Identifier') : null;
        const label = n.node.getChild('LabelName');
        const op = n.node.getChild('MatchOp');
        const value = n.node.getChild('StringLiteral');
        if (!label) return;
        uses.push({
          metric: metricNode ? text(expr, metricNode) : undefined,
          label: text(expr, label),
          op: op ? text(expr, op) : undefined,
          value: value ? unquote(text(expr, value)) : undefined,
        });
      } else if (n.name === 'LabelName' && n.node.parent?.name === 'GroupingLabels') {
        uses.push({ label: text(expr, n.node) });
      }
    },
  });
  return uses;
}

/**
 * The labels a catalogue entry documents in its comment, e.g.
 * `/** gauge {queue, state: waiting|active} *\/` gives queue (any value) and state
 * (waiting or active).
 */
export function documentedLabels(
  catalogueSource: string,
): Map<string, Map<string, string[] | null>> {
  const out = new Map<string, Map<string, string[] | null>>();
  for (const m of catalogueSource.matchAll(
    /\/\*\*([^*]*(?:\*(?!\/)[^*]*)*)\*\/\s*\w+:\s*'([^']+)'/g,
  )) {
    const labels = new Map<string, string[] | null>();
    const braces = /\{([^}]*)\}/.exec(m[1]);
    for (const part of braces ? braces[1].split(',') : []) {
      const [name, values] = part.split(':').map((p) => p.trim());
      if (name) labels.set(name, values ? values.split('|').map((v) => v.trim()) : null);
    }
    out.set(m[2], labels);
  }
  return out;
}
