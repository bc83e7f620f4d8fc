// docker's formatter.Context: "table ..." formats rendered through a tabwriter with a header row,
// other formats printed one line per item; and the per-object contexts (container, image, ...).
import { Template, baseFuncs, headerFuncs } from './template';
import { tabwrite } from './tabwriter';

export const TABLE_PREFIX = 'table';

export function isTableFormat(format: string): boolean {
  return format.startsWith(TABLE_PREFIX);
}

/** What a --format value means: "table", "json" and "" are docker's shorthands. */
export function normalizeFormat(format: string | undefined, defaultTable: string): string {
  if (!format || format === 'table') return defaultTable;
  if (format === 'json') return '{{json .}}';
  return format;
}

function prepare(format: string): string {
  let f = isTableFormat(format) ? format.slice(TABLE_PREFIX.length) : format;
  f = f.replace(/^ +| +$/g, '');
  return f.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}

/** Make a header object: every field is the header text, also when called like a method ({{.Label "x"}}). */
function headerContext(headers: Record<string, string>): Record<string, unknown> {
  const h: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(headers)) h[k] = () => v;
  return h;
}

/**
 * Render items with a docker format string. Table formats get a header row (even with no items)
 * and aligned columns; other formats print one execution per item, each followed by a newline.
 */
export function renderFormat(format: string, items: unknown[], headers: Record<string, string>): string {
  const table = isTableFormat(format);
  const tmpl = new Template(prepare(format), baseFuncs);
  let body = '';
  for (const it of items) body += tmpl.execute(it) + '\n';
  if (!table) return body;
  const header = tmpl.execute(headerContext(headers), headerFuncs);
  return tabwrite(header + '\n' + body);
}

// ------------------------------------------------------------------ helpers

export function truncateId(id: string): string {
  const i = id.indexOf(':');
  const s = i >= 0 ? id.slice(i + 1) : id;
  return s.slice(0, 12);
}

/** docker's formatter.Ellipsis: cut to maxWidth display columns, the last being "…". */
export function ellipsis(s: string, maxWidth: number): string {
  const r = [...s];
  if (maxWidth <= 0) return '';
  if (r.length <= maxWidth) return s;
  if (maxWidth === 1) return r[0];
  return r.slice(0, maxWidth - 1).join('') + '…';
}

/** Go's strconv.Quote (close enough: JSON escaping with Go's \x for control bytes). */
export function goQuote(s: string): string {
  return JSON.stringify(s).replace(/\\u00([0-9a-f]{2})/g, (_m, h: string) => {
    const c = parseInt(h, 16);
    if (c === 7) return '\\a';
    if (c === 8) return '\\b';
    if (c === 12) return '\\f';
    if (c === 11) return '\\v';
    return '\\x' + h;
  });
}

/** Go's time.Time.String() for a Unix time in seconds, in the local zone: "2026-11-24 19:12:18 +0000 UTC". */
export function goTimeString(unixSeconds: number, nanos = 0): string {
  const d = new Date(unixSeconds * 1000);
  const offMin = -d.getTimezoneOffset();
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const frac = nanos ? '.' + String(nanos).padStart(9, '0').replace(/0+$/, '') : '';
  const sign = offMin < 0 ? '-' : '+';
  const off = `${sign}${pad(Math.trunc(Math.abs(offMin) / 60))}${pad(Math.abs(offMin) % 60)}`;
  let zone = 'UTC';
  if (offMin !== 0 || (process.env.TZ && process.env.TZ !== 'UTC')) {
    try {
      const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName');
      zone = part?.value && !/^GMT[+-]/.test(part.value) ? part.value : off.slice(0, 3) + (off.slice(3) === '00' ? '' : off.slice(3));
    } catch { /* keep UTC */ }
  }
  return `${date}${frac} ${off} ${zone}`;
}

/** Make `{{json .}}` of a context print its fields as a sorted map, like docker's MarshalJSON of contexts. */
export function contextJSON(ctx: object, fields: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of [...fields].sort()) {
    const v = (ctx as Record<string, unknown>)[f];
    out[f] = typeof v === 'function' ? (v as () => unknown).call(ctx) : v;
  }
  return out;
}
