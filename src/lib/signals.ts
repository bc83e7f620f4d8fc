import { constants } from 'node:os';
import { InvalidParameterError } from './errors';

const SIGNALS = constants.signals as Record<string, number>;

/** Parses `SIGTERM`, `TERM`, `term` or `15` into a signal number, as Docker does. */
export function parseSignal(s: string | number): number {
  if (typeof s === 'number') return checkNumber(s, String(s));
  const t = s.trim();
  if (/^\d+$/.test(t)) return checkNumber(Number(t), s);
  const name = t.toUpperCase().startsWith('SIG') ? t.toUpperCase() : 'SIG' + t.toUpperCase();
  const n = SIGNALS[name];
  if (n === undefined) {
    const rt = /^SIGRTM(IN|AX)([+-]\d+)?$/.exec(name);
    if (rt) return checkNumber((rt[1] === 'IN' ? 34 : 64) + Number(rt[2] ?? 0), s);
    throw new InvalidParameterError(`Invalid signal: ${s}`);
  }
  return n;
}

function checkNumber(n: number, raw: string): number {
  if (n < 1 || n > 64) throw new InvalidParameterError(`Invalid signal: ${raw}`);
  return n;
}

export const SIGKILL = SIGNALS.SIGKILL;
export const SIGTERM = SIGNALS.SIGTERM;
