// Container records: in memory for lookups, on disk (atomic JSON) for crash safety.
// Lookup by full ID, name (with or without '/'), or unique ID prefix, as Docker does.
// A record that cannot be read is moved to the quarantine with its directory, never deleted.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { removeTrees } from '../../lib/sys/fsbatch';
import { type Durability, fsyncDir, readRecordSync, removeStaleTempsSync, writeJsonAtomic } from '../../lib/atomic';
import { eachInBatches } from '../../lib/batches';
import { crashPoint } from '../../lib/crashpoint';
import { ConflictError, errorMessage, InvalidParameterError, NotFoundError } from '../../lib/errors';
import type { Digest } from '../../lib/digest';
import { type Quarantine, quarantineAt } from '../../lib/quarantine';
import type { MountOwner } from '../../store/layers/types';
import type { ContainerRecord } from './Container';

const RECORD = 'config.v2.json';
const NAME_RE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/** Records read between two yields to the event loop at start (lib/batches.ts). */
const LOAD_BATCH = 64;

/** State changes are fsynced unless BERTH_STATE_FSYNC=0 (the bench's "without", never for use). */
const STATE_DURABILITY: Durability = process.env.BERTH_STATE_FSYNC === '0' ? 'none' : 'record';

export class ContainerStore {
  private readonly byId = new Map<string, ContainerRecord>();
  private readonly byName = new Map<string, string>();
  /** IDs whose record is quarantined (or unreadable in place): their writable layers are kept. */
  private readonly unreadable = new Set<string>();
  /**
   * The last write of each record still in flight. A record's writes go one after another
   * (each has its own temp name: two at once could land in either order), so a save may be started
   * early, beside other work, and a later save or the removal still comes after it.
   */
  private readonly writing = new Map<string, Promise<void>>();

  constructor(readonly root: string, private readonly quarantine: Quarantine = quarantineAt(path.dirname(root))) {}

  dir(id: string): string {
    return path.join(this.root, id);
  }

  async load(): Promise<ContainerRecord[]> {
    await fsp.mkdir(this.root, { recursive: true, mode: 0o710 });
    for (const q of await this.quarantine.list('container')) this.unreadable.add(q.name);
    const loaded: ContainerRecord[] = [];
    await eachInBatches(fs.readdirSync(this.root), LOAD_BATCH, (id) => this.loadOne(id, loaded));
    return loaded;
  }

  /** One directory of the root at start: synchronous in the common case (a readable record), async for repairs. */
  private loadOne(id: string, loaded: ContainerRecord[]): Promise<unknown> | undefined {
    if (id.startsWith('.rm-')) return fsp.rm(path.join(this.root, id), { recursive: true, force: true });
    if (!/^[a-f0-9]{64}$/.test(id)) return undefined;
    removeStaleTempsSync(this.dir(id));
    let rec: ContainerRecord | undefined;
    try {
      rec = readRecordSync<ContainerRecord>(path.join(this.dir(id), RECORD), (v) => checkRecord(v, id));
    } catch (e) {
      // Never deleted: the directory (logs, /etc files, the broken record) goes aside whole,
      // and the writable layer stays where it is (mountOwner() keeps it from the orphan sweep).
      this.unreadable.add(id);
      return this.quarantine.moveOrLeave('container', id, this.dir(id), errorMessage(e));
    }
    if (!rec) return this.recordMissing(id);
    this.byId.set(rec.Id, rec);
    this.byName.set(rec.Name, rec.Id);
    loaded.push(rec);
    return undefined;
  }

  private async recordMissing(id: string): Promise<void> {
    if (await hasLogs(this.dir(id))) {
      // A container that ran has lost its record: keep what it made.
      this.unreadable.add(id);
      await this.quarantine.moveOrLeave('container', id, this.dir(id), `no ${RECORD}, but logs`);
    } else {
      // A create that crashed before writing its record: nothing was ever handed out.
      await fsp.rm(this.dir(id), { recursive: true, force: true });
    }
  }

  /**
   * What the records say about writable layer `id` (store/layers reconcileMounts): a readable
   * record's parent chain, 'held' for a quarantined record (its layer is kept), or nothing (an orphan).
   */
  mountOwner(id: string): MountOwner {
    const c = this.byId.get(id);
    if (c) return { parent: (c.ImageChainId ?? null) as Digest | null, created: c.Created };
    return this.unreadable.has(id) ? 'held' : undefined;
  }

  all(): ContainerRecord[] {
    return [...this.byId.values()];
  }

  /** Resolves a user's reference; throws Docker's `No such container: X`. */
  get(ref: string): ContainerRecord {
    const c = this.find(ref);
    if (!c) throw new NotFoundError(`No such container: ${ref}`);
    return c;
  }

  find(ref: string): ContainerRecord | undefined {
    if (!ref) return undefined;
    const exact = this.byId.get(ref);
    if (exact) return exact;
    const byName = this.byName.get(ref.startsWith('/') ? ref : '/' + ref);
    if (byName) return this.byId.get(byName);
    if (!/^[a-f0-9]+$/.test(ref)) return undefined;
    let match: ContainerRecord | undefined;
    for (const c of this.byId.values()) {
      if (c.Id.startsWith(ref)) {
        if (match) throw new InvalidParameterError(`multiple containers found with provided prefix: ${ref}`);
        match = c;
      }
    }
    return match;
  }

  /** Claims a name for an ID, or fails with Docker's conflict text. */
  reserveName(name: string, id: string): void {
    if (!NAME_RE.test(name)) {
      throw new InvalidParameterError(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    }
    const full = name.startsWith('/') ? name : '/' + name;
    const owner = this.byName.get(full);
    if (owner && owner !== id) {
      throw new ConflictError(`Conflict. The container name "${full}" is already in use by container "${owner}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
    this.byName.set(full, id);
  }

  releaseName(name: string): void {
    this.byName.delete(name);
  }

  hasName(name: string): boolean {
    return this.byName.has(name.startsWith('/') ? name : '/' + name);
  }

  /**
   * Writes the record. `durable` (a new container): the record and its directory entry survive
   * a power loss. Otherwise a state change: the file is fsynced but not the directory, so a
   * power loss leaves the old record or the new one, never an empty file; the start-up
   * reconcile corrects a stale state from what is really running (see lib/atomic.ts).
   * `unlisted`: written but not yet found by look-ups (a create whose layer is still being
   * made); `admit(c)` then makes it known.
   */
  save(c: ContainerRecord, { durable = false, unlisted = false } = {}): Promise<void> {
    return this.afterWrites(c.Id, async () => {
      const write = writeJsonAtomic(path.join(this.dir(c.Id), RECORD), c, 0o600, durable ? 'full' : STATE_DURABILITY);
      // The container directory's own entry is fsynced beside the record's write (one journal
      // commit's wait instead of two).
      await (durable ? Promise.all([write, fsyncDir(this.root)]) : write);
      if (!unlisted) this.byId.set(c.Id, c);
    });
  }

  /** Makes a record saved `unlisted` known to look-ups. */
  admit(c: ContainerRecord): void {
    this.byId.set(c.Id, c);
  }

  /** Runs `write` once the record's earlier writes have settled (failed ones too). */
  private afterWrites(id: string, write: () => Promise<void>): Promise<void> {
    const prev = this.writing.get(id);
    const p = prev ? prev.then(write, write) : write();
    const tail = p.catch(() => undefined);
    this.writing.set(id, tail);
    void tail.then(() => { if (this.writing.get(id) === tail) this.writing.delete(id); });
    return p;
  }

  async delete(c: ContainerRecord): Promise<void> {
    // One rename takes the container away whole (a crash never leaves a half-removed one, nor
    // a directory without its record); the files are deleted in the background, and a start
    // deletes what a crash left of them. After any write still in flight.
    const trash = path.join(this.root, `.rm-${c.Id}`);
    await this.afterWrites(c.Id, async () => {
      try {
        await fsp.rename(this.dir(c.Id), trash);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    });
    this.byId.delete(c.Id);
    if (this.byName.get(c.Name) === c.Id) this.byName.delete(c.Name);
    crashPoint('container.remove.after-rename');
    void removeTrees([trash]).catch(() => undefined);
  }
}

/** What makes a parsed record unusable as a container of directory `id`, if anything. */
function checkRecord(v: unknown, id: string): string | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return 'not a JSON object';
  const r = v as Partial<ContainerRecord>;
  if (r.Id !== id) return `Id ${JSON.stringify(r.Id)} is not the directory's`;
  if (typeof r.Name !== 'string' || !r.Name.startsWith('/')) return 'no Name';
  for (const k of ['State', 'Config', 'HostConfig'] as const) {
    if (!r[k] || typeof r[k] !== 'object') return `no ${k}`;
  }
  return undefined;
}

/** Whether a container directory holds logs (container.log and its rotated files): the container ran. */
async function hasLogs(dir: string): Promise<boolean> {
  const names = await fsp.readdir(dir).catch(() => [] as string[]);
  return names.some((n) => n.startsWith('container.log'));
}
