// Records that cannot be read are moved aside, never deleted with what depends on them:
//
//   <data-root>/quarantine/<kind>/<name>-<timestamp>    the record file, or the directory it
//                                                       lives in, exactly as it was found
//
// A human can repair one and move it back; the next start loads it. Until then each entry is
// a warning in `docker info`, and the stores keep what depended on it (a container's writable
// layer, an image's layers and tags) out of their clean-ups.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { fsyncDir } from './atomic';
import { errorMessage } from './errors';
import { log } from './log';

/** 'mount': a container's writable layer (layers/mounts/<id>/) whose record cannot be read and that no container claims. */
export type RecordKind = 'container' | 'image' | 'layer' | 'reference' | 'mount';
const KINDS: RecordKind[] = ['container', 'image', 'layer', 'reference', 'mount'];

export interface QuarantinedRecord {
  kind: RecordKind;
  /** The record's name where it was: a container ID, an image or layer digest hex, a file name. */
  name: string;
  path: string;
}

const README = `Records that berthd could not read, moved here unchanged: <kind>/<name>-<time>.
The daemon log says why and where each came from ("unreadable record moved to quarantine",
from=...). To repair one: fix it, move it back to where it came from, restart berthd.
Deleting an entry gives up what it held: a container's writable layer is then collected.
`;

const ENTRY_RE = /^(.+)-(\d{8}T\d{9}Z)(\.\d+)?$/;
const MAX_WARNINGS = 20;

export class Quarantine {
  readonly root: string;
  /** Things that are not quarantined themselves but unusable because of what is (by key). */
  private readonly notices = new Map<string, string>();

  constructor(dataRoot: string) {
    this.root = path.join(dataRoot, 'quarantine');
  }

  /**
   * Moves `source` (a file or a directory) into the quarantine, logs it at error level and
   * returns where it went. Throws when it cannot be moved: the caller then leaves it alone.
   */
  async move(kind: RecordKind, name: string, source: string, reason: string): Promise<string> {
    const dir = path.join(this.root, kind);
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    await fsp.writeFile(path.join(this.root, 'README'), README, { flag: 'wx' }).catch(() => undefined);
    const stamp = new Date().toISOString().replace(/[-:.]/g, '');
    let target = path.join(dir, `${name}-${stamp}`);
    // rename(2) replaces a file silently: never let two entries share a name.
    for (let n = 2; await exists(target); n++) target = path.join(dir, `${name}-${stamp}.${n}`);
    await fsp.rename(source, target);
    // The move is made durable: after a power loss the record is in one place or the other.
    await fsyncDir(dir);
    await fsyncDir(path.dirname(source)).catch(() => undefined);
    log.error('unreadable record moved to quarantine', { kind, name, path: target, from: source, reason });
    return target;
  }

  /** Like move(), but a failure to move is logged and the record left where it is. */
  async moveOrLeave(kind: RecordKind, name: string, source: string, reason: string): Promise<string | undefined> {
    try {
      return await this.move(kind, name, source, reason);
    } catch (e) {
      log.error('unreadable record could not be moved to quarantine; left in place', { kind, name, path: source, reason, error: errorMessage(e) });
      this.notice(`unmoved:${source}`, `WARNING: ${kind} record ${source} cannot be read (${reason}) and could not be moved to ${this.root}`);
      return undefined;
    }
  }

  /** What is in the quarantine now, from any start of the daemon. */
  async list(kind?: RecordKind): Promise<QuarantinedRecord[]> {
    const out: QuarantinedRecord[] = [];
    for (const k of kind ? [kind] : KINDS) {
      let names: string[];
      try { names = await fsp.readdir(path.join(this.root, k)); } catch { continue; }
      for (const n of names.sort()) {
        const m = ENTRY_RE.exec(n);
        if (m) out.push({ kind: k, name: m[1], path: path.join(this.root, k, n) });
      }
    }
    return out;
  }

  /** Records a warning for something unusable because of a quarantined or missing record. */
  notice(key: string, text: string): void {
    this.notices.set(key, text);
  }

  clearNotice(key: string): void {
    this.notices.delete(key);
  }

  /** Lines for `docker info`'s Warnings, one per quarantined record and per notice. */
  async warnings(): Promise<string[]> {
    const lines = (await this.list()).map((q) =>
      `WARNING: ${q.kind} record ${q.name} could not be read and was moved to ${q.path}; see the daemon log`);
    lines.push(...this.notices.values());
    if (lines.length <= MAX_WARNINGS) return lines;
    return [...lines.slice(0, MAX_WARNINGS - 1), `WARNING: ${lines.length - MAX_WARNINGS + 1} more unreadable or unusable records, see ${this.root} and the daemon log`];
  }
}

const byRoot = new Map<string, Quarantine>();

/** The one Quarantine of a data root, shared by the stores that load records and by `docker info`. */
export function quarantineAt(dataRoot: string): Quarantine {
  const key = path.resolve(dataRoot);
  let q = byRoot.get(key);
  if (!q) { q = new Quarantine(key); byRoot.set(key, q); }
  return q;
}

async function exists(p: string): Promise<boolean> {
  return fsp.lstat(p).then(() => true, () => false);
}
