// Volumes on the local disk: <data-root>/volumes/<name>/volume.json (the record) and
// <name>/_data (what containers mount). A volume appears by one rename of a directory that
// already holds both, and disappears by one rename out of the way before its data is
// deleted, so a crash leaves either a whole volume or a dot-named leftover that the next
// reconcile sweeps.
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { crashPoint } from '../../lib/crashpoint';
import { ConflictError, NotFoundError, SystemError, errorMessage } from '../../lib/errors';
import { fsyncDir, readRecord, writeJsonAtomic } from '../../lib/atomic';
import { log } from '../../lib/log';
import { isMountPoint } from '../../store/layers/mounts';
import type { VolumeRecord, VolumeStore } from './types';

const RECORD = 'volume.json';
const DATA = '_data';
/** A copy-up being filled (renamed over _data when whole). */
const STAGING = '.copyup';
/** Leftovers of a create or a removal cut short: `.<name>.<hex>.creating` / `.removing`. */
const LEFTOVER = /^\..+\.[0-9a-f]{12}\.(creating|removing)$/;

function checkRecord(v: unknown): string | undefined {
  const r = v as VolumeRecord;
  if (!r || typeof r !== 'object' || typeof r.Name !== 'string' || typeof r.Driver !== 'string') return 'not a volume record';
  return undefined;
}

export class LocalVolumeStore implements VolumeStore {
  readonly dir: string;
  private readonly records = new Map<string, VolumeRecord>();

  constructor(dataRoot: string) {
    this.dir = path.join(dataRoot, 'volumes');
  }

  dataPath(name: string): string {
    return path.join(this.dir, name, DATA);
  }

  stagingPath(name: string): string {
    return path.join(this.dir, name, STAGING);
  }

  get(name: string): VolumeRecord | undefined {
    return this.records.get(name);
  }

  list(): VolumeRecord[] {
    return [...this.records.values()];
  }

  async create(rec: VolumeRecord): Promise<VolumeRecord> {
    if (this.records.has(rec.Name)) throw new ConflictError(`volume ${rec.Name} already exists`);
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o701 });
    const staging = path.join(this.dir, `.${rec.Name}.${randomBytes(6).toString('hex')}.creating`);
    try {
      await fsp.mkdir(staging, { mode: 0o701 });
      await fsp.mkdir(path.join(staging, DATA), { mode: 0o755 });
      await writeJsonAtomic(path.join(staging, RECORD), rec, 0o600, 'full');
      crashPoint('volume.create.before-rename');
      // rename(2) onto an existing non-empty directory fails: two creators cannot both win.
      await fsp.rename(staging, path.join(this.dir, rec.Name)).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'EEXIST' || e.code === 'ENOTEMPTY') throw new ConflictError(`volume ${rec.Name} already exists`);
        throw e;
      });
      await fsyncDir(this.dir);
    } catch (e) {
      await fsp.rm(staging, { recursive: true, force: true }).catch(() => undefined);
      throw e;
    }
    this.records.set(rec.Name, rec);
    return rec;
  }

  async remove(name: string): Promise<void> {
    if (!this.records.has(name)) throw new NotFoundError(`get ${name}: no such volume`);
    const live = path.join(this.dir, name);
    // A bind or device mounted on _data would have its contents deleted with the volume.
    if (await isMountPoint(path.join(live, DATA))) throw new SystemError(`remove ${name}: its data directory is still mounted`);
    const gone = path.join(this.dir, `.${name}.${randomBytes(6).toString('hex')}.removing`);
    await fsp.rename(live, gone);
    await fsyncDir(this.dir);
    this.records.delete(name);
    crashPoint('volume.remove.after-rename');
    await fsp.rm(gone, { recursive: true, force: true });
  }

  async reconcile(): Promise<void> {
    this.records.clear();
    let names: string[];
    try { names = await fsp.readdir(this.dir); } catch { return; }
    for (const n of names) {
      const p = path.join(this.dir, n);
      if (LEFTOVER.test(n)) {
        const data = path.join(p, DATA);
        if (await isMountPoint(data)) { log.error('volume leftover still mounted; kept', { path: p }); continue; }
        await fsp.rm(p, { recursive: true, force: true });
        continue;
      }
      if (n.startsWith('.')) continue; // a record write's temp file lives inside a volume dir, not here
      try {
        const rec = await readRecord<VolumeRecord>(path.join(p, RECORD), checkRecord);
        if (!rec || rec.Name !== n) { log.error('volume directory without a usable record; left alone', { path: p }); continue; }
        // A copy-up cut short: _data is still the empty one, the next start copies again.
        await fsp.rm(path.join(p, STAGING), { recursive: true, force: true });
        await fsp.mkdir(path.join(p, DATA), { recursive: true, mode: 0o755 });
        this.records.set(n, rec);
      } catch (e) {
        // Never delete what may be a user's data: log it and leave it for the operator.
        log.error('volume record unreadable; left alone', { path: p, error: errorMessage(e) });
      }
    }
  }
}
