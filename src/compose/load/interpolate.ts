// Variable substitution in values (12-interpolation.md): ${VAR}, ${VAR:-d}, ${VAR-d}, ${VAR:?e},
// ${VAR?e}, ${VAR:+a}, ${VAR+a}, $VAR, $$, nested. Keys are never interpolated.
import { fileError, joinPath } from './errors';
import { isMapping, Override } from './yaml';

export type Lookup = (name: string) => string | undefined;

export interface InterpolateContext {
  lookup: Lookup;
  /** called for a variable that is not set and has no default */
  warn?: (message: string) => void;
}

class InterpolationError extends Error {}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** Substitute the variables of one string. Throws a plain Error with compose's wording. */
export function interpolateString(s: string, ctx: InterpolateContext): string {
  if (!s.includes('$')) return s;
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c !== '$') { out += c; i++; continue; }
    const next = s[i + 1];
    if (next === '$') { out += '$'; i += 2; continue; }
    if (next === '{') {
      const end = closingBrace(s, i + 2);
      if (end < 0) throw new InterpolationError(`invalid interpolation format for "${s}". You may need to escape any $ with another $.`);
      out += substitute(s.slice(i + 2, end), s, ctx);
      i = end + 1;
      continue;
    }
    const m = NAME.exec(s.slice(i + 1));
    if (m) {
      out += valueOf(m[0], ctx);
      i += 1 + m[0].length;
      continue;
    }
    out += '$';
    i++;
  }
  return out;
}

/** Index of the `}` closing a `${` whose body starts at `from`, counting nested `${...}`. */
function closingBrace(s: string, from: number): number {
  let depth = 1;
  for (let i = from; i < s.length; i++) {
    if (s[i] === '$' && s[i + 1] === '$') { i++; continue; }
    if (s[i] === '$' && s[i + 1] === '{') { depth++; i++; continue; }
    if (s[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

function valueOf(name: string, ctx: InterpolateContext): string {
  const v = ctx.lookup(name);
  if (v === undefined) {
    ctx.warn?.(`The "${name}" variable is not set. Defaulting to a blank string.`);
    return '';
  }
  return v;
}

function substitute(body: string, whole: string, ctx: InterpolateContext): string {
  const m = NAME.exec(body);
  if (!m) throw new InterpolationError(`invalid interpolation format for "${whole}". You may need to escape any $ with another $.`);
  const name = m[0];
  const rest = body.slice(name.length);
  if (rest === '') return valueOf(name, ctx);
  const op = /^(:-|-|:\?|\?|:\+|\+)/.exec(rest);
  if (!op) throw new InterpolationError(`invalid interpolation format for "${whole}". You may need to escape any $ with another $.`);
  const word = rest.slice(op[1].length);
  const v = ctx.lookup(name);
  const unset = v === undefined;
  const empty = unset || v === '';
  // the word is only expanded when used, so ${A:?${B}} does not warn about B when A is set
  const expand = () => interpolateString(word, ctx);
  switch (op[1]) {
    case ':-': return empty ? expand() : v!;
    case '-': return unset ? expand() : v!;
    case ':?': if (empty) throw new InterpolationError(`required variable ${name} is missing a value${word ? `: ${expand()}` : ''}`); return v!;
    case '?': if (unset) throw new InterpolationError(`required variable ${name} is missing a value${word ? `: ${expand()}` : ''}`); return v!;
    case ':+': return empty ? '' : expand();
    default: return unset ? '' : expand();
  }
}

/** Interpolate every string value of a document (not its keys); errors name the file and the path. */
export function interpolateDocument<T>(data: T, ctx: InterpolateContext, file: string, base = ''): T {
  const walk = (v: unknown, p: string): unknown => {
    if (typeof v === 'string') {
      try {
        return interpolateString(v, ctx);
      } catch (e) {
        if (e instanceof InterpolationError) throw fileError(file, p, e.message);
        throw e;
      }
    }
    if (v instanceof Override) return new Override(walk(v.value, p));
    if (Array.isArray(v)) return v.map((x, i) => walk(x, joinPath(p, i)));
    if (isMapping(v)) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x, joinPath(p, k));
      return out;
    }
    return v;
  };
  return walk(data, base) as T;
}
