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
