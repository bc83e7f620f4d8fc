// .env files as compose reads them: KEY=VALUE lines, `export `, comments, single quotes literal,
// double quotes with escapes and interpolation, unquoted values interpolated and trimmed, a
// line with only a KEY taking its value from the environment.
import * as fs from 'node:fs';
import { fileError } from './errors';
import { interpolateString, Lookup } from './interpolate';

export function parseDotEnv(text: string, file: string, lookup: Lookup): Record<string, string> {
  const vars: Record<string, string> = {};
  const look: Lookup = (n) => (n in vars ? vars[n] : lookup(n));
  const src = text.replace(/\r\n?/g, '\n');
  let i = 0;
  let line = 1;
  const fail = (what: string) => fileError(file, `line ${line}`, what);
  while (i < src.length) {
    // skip blank space and comment lines
    const eol = src.indexOf('\n', i) < 0 ? src.length : src.indexOf('\n', i);
    const raw = src.slice(i, eol);
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) { i = eol + 1; line++; continue; }
    const m = /^\s*(?:export\s+)?([A-Za-z_.][A-Za-z0-9_.\-\[\]]*)\s*(=|:)?/.exec(raw);
    if (!m) throw fail(`unexpected character in variable name "${trimmed}"`);
    const key = m[1];
    if (!m[2]) {
      if (trimmed.replace(/^export\s+/, '') !== key) throw fail(`unexpected character in variable name "${trimmed}"`);
      const v = lookup(key);
      if (v !== undefined) vars[key] = v;
      i = eol + 1; line++;
      continue;
    }
    let j = i + m[0].length;
    while (src[j] === ' ' || src[j] === '\t') j++;
    const q = src[j];
    if (q === "'" || q === '"') {
      const close = findClosingQuote(src, j + 1, q);
      if (close < 0) throw fail(`unterminated quoted value for ${key}`);
      const body = src.slice(j + 1, close);
      vars[key] = q === "'" ? body : interpolateString(unescapeDouble(body), { lookup: look });
      line += (body.match(/\n/g) ?? []).length;
      const after = src.indexOf('\n', close) < 0 ? src.length : src.indexOf('\n', close);
      i = after + 1; line++;
      continue;
    }
    let value = src.slice(j, eol);
    const hash = value.search(/\s#/);
    if (hash >= 0) value = value.slice(0, hash);
    vars[key] = interpolateString(value.trim(), { lookup: look });
    i = eol + 1; line++;
  }
  return vars;
}

function findClosingQuote(s: string, from: number, q: string): number {
  for (let i = from; i < s.length; i++) {
    if (q === '"' && s[i] === '\\') { i++; continue; }
    if (s[i] === q) return i;
  }
  return -1;
}

function unescapeDouble(s: string): string {
  return s.replace(/\\(.)/gs, (_m, c: string) => ({ n: '\n', r: '\r', t: '\t' } as Record<string, string>)[c] ?? c);
}

/** Read a .env file; a missing file is `undefined`. */
export function readDotEnv(file: string, lookup: Lookup): Record<string, string> | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fileError(file, undefined, (e as Error).message);
  }
  return parseDotEnv(text, file, lookup);
}
