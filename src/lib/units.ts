// go-units as the CLI and the daemon share it: human sizes parsed (--memory, --log-opt
// max-size, --tmpfs size) and durations printed.
import { InvalidParameterError } from './errors';

/** go-units HumanDuration: "About a minute", "3 days". */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3_600_000);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(hours / 24 / 365)} years`;
}

const SIZE_RE = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/;
const MUL: Record<string, number> = { k: 1, m: 2, g: 3, t: 4, p: 5 };

function parseSize(s: string, base: number): number {
  const m = SIZE_RE.exec(s);
  if (!m) throw new InvalidParameterError(`invalid size: '${s}'`);
  let size = parseFloat(m[1]);
  if (Number.isNaN(size)) throw new InvalidParameterError(`invalid size: '${s}'`);
  if (m[2]) size *= Math.pow(base, MUL[m[2].toLowerCase()]);
  return Math.trunc(size);
}

/** go-units RAMInBytes: "64m" → 67108864 (binary multiples, unit letters case-insensitive). */
export function ramInBytes(s: string): number {
  return parseSize(s, 1024);
}

/** go-units FromHumanSize: "1k" → 1000 (decimal multiples). */
export function fromHumanSize(s: string): number {
  return parseSize(s, 1000);
}

const DUR_UNITS: Record<string, number> = {
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
    total += v * DUR_UNITS[u[1]];
  }
  return Math.round(neg ? -total : total);
}
