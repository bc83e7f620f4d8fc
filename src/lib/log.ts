// Minimal levelled logger writing to stderr; berthd's --log-level sets the threshold.
export type Level = 'debug' | 'info' | 'warn' | 'error' | 'fatal';
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40, fatal: 50 };
let threshold = order.info;

export function setLogLevel(level: string): void {
  if (!(level in order)) throw new Error(`invalid log level: ${level}`);
  threshold = order[level as Level];
}

function emit(level: Level, msg: string, fields?: Record<string, unknown>): void {
  if (order[level] < threshold) return;
  const extra = fields ? ' ' + Object.entries(fields).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ') : '';
  process.stderr.write(`time="${new Date().toISOString()}" level=${level} msg=${JSON.stringify(msg)}${extra}\n`);
}

export const log = {
  debug: (m: string, f?: Record<string, unknown>) => emit('debug', m, f),
  info: (m: string, f?: Record<string, unknown>) => emit('info', m, f),
  warn: (m: string, f?: Record<string, unknown>) => emit('warn', m, f),
  error: (m: string, f?: Record<string, unknown>) => emit('error', m, f),
};
