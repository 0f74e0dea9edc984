/**
 * Pulls the metric names out of a PromQL expression: every identifier that is not a
 * function, keyword, aggregation, label name (inside `{}` or a `by`/`on`/… list), string,
 * or duration. Small on purpose: it serves the expressions written in k8s/monitoring/,
 * and its own tests show it finds what it must.
 */
const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'atan2',
  'inf',
  'nan',
]);

export function promqlMetricNames(expr: string): string[] {
  const stripped = expr
    // string literals (label values, regexes)
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    // label matchers
    .replace(/\{[^}]*\}/g, ' ')
    // range and subquery selectors: [5m], [$__rate_interval], [1h:5m]
    .replace(/\[[^\]]*\]/g, ' ')
    // label lists after grouping and matching modifiers
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    // template variables (Grafana)
    .replace(/\$\{?\w+\}?/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*(?=\s*(\()?)/g)) {
    const [token, call] = [m[0], m[1]];
    if (call) continue; // a function or aggregation: rate(, sum(, histogram_quantile(
    if (KEYWORDS.has(token.toLowerCase())) continue;
    if (/^\d/.test(token)) continue;
    // a number's exponent or a duration suffix left behind (1e3, 5m)
    const before = stripped[(m.index ?? 0) - 1];
    if (before !== undefined && /[0-9.]/.test(before)) continue;
    names.add(token);
  }
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

/** Label names (and matcher values) that a PromQL expression relies on. */
export function promqlLabelUses(expr: string): LabelUse[] {
  const uses: LabelUse[] = [];
  for (const sel of expr.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)?\s*\{([^}]*)\}/g)) {
    for (const m of sel[2].matchAll(/([A-Za-z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)) {
      uses.push({ metric: sel[1], label: m[1], op: m[2], value: m[3] });
    }
  }
  for (const group of expr.matchAll(
    /\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g,
  )) {
    for (const label of group[1].split(',').map((l) => l.trim())) {
      if (label) uses.push({ label });
    }
  }
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
