/** 1h, 30m, 45s, 1500ms (and combinations such as 1h30m) → milliseconds. */
export function parseDuration(value: string): number {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // Sticky: each match must start where the previous one ended, so a long run of digits
  // is read once instead of once per starting position.
  const pattern = /(\d+(?:\.\d+)?)(ms|[smhd])/gy;
  const factors: Record<string, number> = {
    ms: 1,
    s: 1_000,
    m: 60_000,
    h: 3_600_000,
    d: 86_400_000,
  };
  let total = 0;
  let consumed = '';
  for (const match of trimmed.matchAll(pattern)) {
    total += Number(match[1]) * factors[match[2]];
    consumed += match[0];
  }
  if (consumed !== trimmed || consumed === '') {
    throw new Error(`"${value}" is not a duration: use e.g. 90s, 30m, 1h or 1h30m`);
  }
  return total;
}

export function formatAge(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1_000) return `${ms}ms`;
  const s = Math.floor(ms / 1_000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  const h = Math.floor(m / 60);
  return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
}
