// The schema accepts strings where numbers and booleans go (so that they can be interpolated);
// the model has the real types.
import { ComposeFileError } from '../model';
import { ramInBytes } from '../../lib/units';

export function toInt(v: unknown, what: string): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^[+-]?\d+$/.test(v.trim())) return parseInt(v, 10);
  throw new ComposeFileError(`${what}: "${String(v)}" is not an integer`);
}

export function toBool(v: unknown, what: string): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (['true', '1', 'yes', 'y', 'on'].includes(s)) return true;
    if (['false', '0', 'no', 'n', 'off'].includes(s)) return false;
  }
  throw new ComposeFileError(`${what}: "${String(v)}" is not a boolean`);
}

/** "1g", "512m", "1024": bytes, as docker's units.RAMInBytes reads sizes */
export function toBytes(v: unknown, what: string): number {
  if (typeof v === 'number') return v;
  try {
    return ramInBytes(String(v));
  } catch {
    throw new ComposeFileError(`${what}: "${String(v)}" is not a size`);
  }
}

/** A file mode: a number (0440 in YAML is already octal) or an octal string. */
export function toMode(v: unknown, what: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^0?[0-7]+$/.test(v.trim())) return parseInt(v, 8);
  throw new ComposeFileError(`${what}: "${String(v)}" is not a file mode`);
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v : String(v);
}

/** `KEY=VALUE` list or mapping to a mapping; `KEY` alone maps to `bare`. */
export function toMap<T>(v: unknown, bare: T, sep = '='): Record<string, string | T> {
  const out: Record<string, string | T> = {};
  if (Array.isArray(v)) {
    for (const item of v) {
      const s = str(item);
      const i = s.indexOf(sep);
      if (i < 0) out[s] = bare;
      else out[s.slice(0, i)] = s.slice(i + 1);
    }
  } else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) out[k] = x === null || x === undefined ? bare : str(x);
  }
  return out;
}

/** A string or a list of strings, as a list. */
export function toList(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]).map(str);
}
