// Log driver options (--log-opt) as Docker's json-file and local drivers read them.
import { InvalidParameterError } from '../../lib/errors';
import { fromHumanSize } from '../../lib/units';

export interface RotationPolicy {
  /** Bytes; rotation starts when the current file reaches it. */
  maxSize: number;
  /** Files kept, the current one included (1 = the file is truncated instead of rotated). */
  maxFile: number;
}

const ALLOWED: Record<string, string[]> = {
  'json-file': ['max-size', 'max-file', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag', 'mode', 'max-buffer-size'],
  local: ['max-size', 'max-file', 'compress', 'mode', 'max-buffer-size'],
  'k8s-file': ['max-size', 'max-file', 'mode', 'max-buffer-size'],
  none: ['mode', 'max-buffer-size'],
};

/** Docker's ValidateLogOpts for the drivers berth has. */
export function validateLogOpts(driver: string, opts: Record<string, string>): void {
  const allowed = ALLOWED[driver] ?? [];
  for (const k of Object.keys(opts)) {
    if (!allowed.includes(k)) throw new InvalidParameterError(`unknown log opt '${k}' for ${driver} log driver`);
  }
  // Accepted by Docker but not done here: a 400 naming them rather than a silent no-op.
  if (opts.compress !== undefined) {
    if (!/^(1|t|T|TRUE|true|True|0|f|F|FALSE|false|False)$/.test(opts.compress)) throw new InvalidParameterError(`strconv.ParseBool: parsing "${opts.compress}": invalid syntax`);
    if (/^(1|t|T|TRUE|true|True)$/.test(opts.compress)) throw new InvalidParameterError(`log opt 'compress' is not supported by berth's ${driver} log driver (rotated files are kept uncompressed)`);
  }
  if (opts.mode !== undefined && opts.mode !== 'blocking') {
    if (opts.mode !== 'non-blocking') throw new InvalidParameterError(`logger: logging mode not supported: ${opts.mode}`);
    throw new InvalidParameterError("log opt 'mode=non-blocking' is not supported by berth (logs are always written in blocking mode)");
  }
  if (opts['max-buffer-size'] !== undefined) throw new InvalidParameterError("log opt 'max-buffer-size' is not supported by berth (it needs mode=non-blocking)");
  if (opts['max-size'] !== undefined) fromHumanSize(opts['max-size']);
  if (opts['max-file'] !== undefined) {
    if (!/^-?\d+$/.test(opts['max-file'])) throw new InvalidParameterError(`strconv.Atoi: parsing "${opts['max-file']}": invalid syntax`);
    if (Number(opts['max-file']) < 1) throw new InvalidParameterError('max-file cannot be less than 1');
    if (driver === 'json-file' && opts['max-size'] === undefined && Number(opts['max-file']) > 1) {
      throw new InvalidParameterError('max-file can only be used with max-size');
    }
  }
}

/** The rotation a container's log gets, or undefined for an unbounded log. */
export function rotationOf(driver: string, opts: Record<string, string>): RotationPolicy | undefined {
  if (driver === 'none') return undefined;
  // The local driver rotates by default (20 MB x 5), json-file only when asked.
  const size = opts['max-size'] ?? (driver === 'local' ? '20m' : undefined);
  if (size === undefined) return undefined;
  const maxSize = fromHumanSize(size);
  if (maxSize <= 0) return undefined;
  const maxFile = Number(opts['max-file'] ?? (driver === 'local' ? '5' : '1'));
  return { maxSize, maxFile: Number.isFinite(maxFile) && maxFile >= 1 ? maxFile : 1 };
}
