// Docker's JSON-message progress items: `{status, progressDetail, progress, id}`, the bar text
// as the daemon renders it (the CLI prints `progress` on a terminal only).

function size(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(3)}GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(3)}MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(2)}kB`;
  return `${n}B`;
}

/** `[=====>      ]  1.2MB/3.4MB` */
export function progressBar(current: number, total: number): string {
  const width = 50;
  if (total <= 0) return `${size(current).padStart(8)}`;
  const filled = Math.min(width, Math.floor((current / total) * width));
  const arrow = filled >= width ? '='.repeat(width) + '>' : '='.repeat(filled) + '>' + ' '.repeat(width - filled - 1);
  return `[${arrow}] ${size(current).padStart(8)}/${size(total)}`;
}

export type ProgressItem = Record<string, unknown>;

export function statusItem(status: string, id?: string): ProgressItem {
  return id === undefined ? { status } : { status, progressDetail: {}, id };
}

export function progressItem(status: string, id: string, current: number, total: number): ProgressItem {
  return { status, progressDetail: { current, total }, progress: progressBar(current, total), id };
}

/** Calls `fn` at most every `ms` milliseconds, except when `force` is set (the final figure). */
export function throttled<A extends unknown[]>(ms: number, fn: (...a: A) => void): (force: boolean, ...a: A) => void {
  let last = 0;
  return (force, ...a) => {
    const now = Date.now();
    if (!force && now - last < ms) return;
    last = now;
    fn(...a);
  };
}
