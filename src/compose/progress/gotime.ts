// Times as compose (Go) prints them, in the local zone: RFC3339Nano (trailing zeros cut, as
// json.Marshal) and RFC3339NanoFixed (always nine digits, as docker's jsonmessage and compose's
// `up --timestamps`).
const pad = (n: number | bigint, w = 2) => String(n).padStart(w, '0');

export function localParts(ns: bigint): { date: Date; frac: string } {
  return { date: new Date(Number(ns / 1_000_000n)), frac: pad(ns % 1_000_000_000n, 9) };
}

function zone(d: Date): string {
  const off = -d.getTimezoneOffset();
  return off === 0 ? 'Z' : `${off < 0 ? '-' : '+'}${pad(Math.trunc(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
}

function dateTime(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Go's time.RFC3339Nano. */
export function rfc3339Nano(ns: bigint): string {
  const { date: d, frac } = localParts(ns);
  const f = frac.replace(/0+$/, '');
  return `${dateTime(d)}${f ? '.' + f : ''}${zone(d)}`;
}

/** docker's jsonmessage.RFC3339NanoFixed: "2006-01-02T15:04:05.000000000Z07:00". */
export function rfc3339NanoFixed(ns: bigint): string {
  const { date: d, frac } = localParts(ns);
  return `${dateTime(d)}.${frac}${zone(d)}`;
}

// hrtime anchored to the wall clock once: nanoseconds that keep their order within a process
const ANCHOR_NS = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

/** Now, in nanoseconds since the epoch. */
export function nowNanos(): bigint {
  return ANCHOR_NS + process.hrtime.bigint();
}
