// Go durations (time.ParseDuration, Duration.String): "1m30s", "500ms", "1h0m0s": the CLI's flags,
// Dockerfile HEALTHCHECK options and compose files read them, with Go's error texts.
const UNITS: Record<string, number> = {
  ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9,
};

/** Go's time.ParseDuration; returns nanoseconds. */
export function parseDuration(s: string): number {
  const orig = s;
  if (!s) throw new Error(`time: invalid duration "${orig}"`);
  let neg = false;
  if (s[0] === '-' || s[0] === '+') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (!s) throw new Error(`time: invalid duration "${orig}"`);
  let total = 0;
  while (s) {
    const m = /^(\d*)(?:\.(\d*))?/.exec(s) as RegExpExecArray;
    if (!m[0] || m[0] === '.') throw new Error(`time: invalid duration "${orig}"`);
    s = s.slice(m[0].length);
    const u = /^(ns|us|µs|μs|ms|s|m|h)/.exec(s);
    if (!u) {
      if (!s || /^\d/.test(s)) throw new Error(`time: missing unit in duration "${orig}"`);
      throw new Error(`time: unknown unit "${/^[^\d.]+/.exec(s)?.[0] ?? s}" in duration "${orig}"`);
    }
    s = s.slice(u[1].length);
    const v = parseFloat((m[1] || '0') + '.' + (m[2] || '0'));
    total += v * UNITS[u[1]];
  }
  return Math.round(neg ? -total : total);
}

/** Nanoseconds of a duration as compose reads it: Go's form, or a bare number of seconds. */
export function parseGoDuration(v: string | number): number {
  if (typeof v === 'number') return v * 1e9;
  const s = v.trim();
  if (/^[+-]?\d+(\.\d+)?$/.test(s)) return parseFloat(s) * 1e9;
  return parseDuration(s);
}

/** Go's time.Duration.String(). */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let n = Math.abs(Math.round(ns));
  let out: string;
  if (n < 1e9) {
    const [unit, div] = n < 1e3 ? ['ns', 1] : n < 1e6 ? ['µs', 1e3] : ['ms', 1e6];
    out = trimFraction(n / (div as number)) + unit;
  } else {
    const h = Math.floor(n / 3600e9);
    n -= h * 3600e9;
    const m = Math.floor(n / 60e9);
    n -= m * 60e9;
    const sec = trimFraction(n / 1e9) + 's';
    out = h ? `${h}h${m}m${sec}` : m ? `${m}m${sec}` : sec;
  }
  return (neg ? '-' : '') + out;
}

function trimFraction(x: number): string {
  return x.toFixed(9).replace(/\.?0+$/, '');
}

