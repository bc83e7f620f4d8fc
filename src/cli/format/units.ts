// Sizes and durations as docker's go-units prints and parses them (the size parsers, shared
// with the daemon, are in lib/units.ts).
import { humanDuration } from '../../lib/units';
import { parseDuration } from '../../lib/duration';

export { humanDuration, parseDuration };
import { formatG } from './template';

const DECIMAL = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

function customSize(precision: number, size: number, base: number, units: string[]): string {
  let i = 0;
  while (size >= base && i < units.length - 1) {
    size /= base;
    i++;
  }
  return formatG(size, precision) + units[i];
}

/** go-units HumanSizeWithPrecision: decimal units ("1.98MB" for precision 3). */
export function humanSizeWithPrecision(size: number, precision: number): string {
  return customSize(precision, size, 1000, DECIMAL);
}

/** go-units HumanSize: decimal units with 4 significant digits ("1.984MB"). */
export function humanSize(size: number): string {
  return humanSizeWithPrecision(size, 4);
}

/** go-units BytesSize: binary units ("880KiB", "23.54GiB"). */
export function bytesSize(size: number): string {
  return customSize(4, size, 1024, BINARY);
}

/** "<duration> ago" for a Unix time in seconds, as docker's CREATED column. */
export function timeAgo(unixSeconds: number, now = Date.now()): string {
  return humanDuration(now - unixSeconds * 1000) + ' ago';
}

/**
 * docker's GetTimestamp for --since/--until: a Go duration relative to now ("5s" → now-5s in Unix seconds),
 * an RFC 3339 date or date-time ("seconds.nanoseconds"), or a Unix timestamp passed through.
 */
export function getTimestamp(value: string, now = Date.now()): string {
  if (/^-?\d+(\.\d+)?$/.test(value)) return value;
  try {
    const ns = parseDuration(value);
    return String(Math.trunc((now - ns / 1e6) / 1000));
  } catch { /* not a duration */ }
  let v = value;
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) v += 'T00:00:00';
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/.test(v);
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}(?::\d{2})?)(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$/.exec(v);
  if (!m) throw new Error(`failed to parse value as time or duration: "${value}"`);
  const base = `${m[1]}T${m[2].length === 5 ? m[2] + ':00' : m[2]}${hasZone ? (m[4] === 'Z' ? 'Z' : m[4]) : ''}`;
  const ms = Date.parse(base);
  if (Number.isNaN(ms)) throw new Error(`failed to parse value as time or duration: "${value}"`);
  const secs = Math.floor(ms / 1000);
  const frac = (m[3] ?? '').padEnd(9, '0').slice(0, 9);
  return `${secs}.${frac}`;
}
