// Container records: in memory for lookups, on disk (atomic JSON) for crash safety.
// Lookup by full ID, name (with or without '/'), or unique ID prefix, as Docker does.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { readJsonIfExists, removeStaleTemps, writeJsonAtomic } from '../../lib/atomic';
import { ConflictError, InvalidParameterError, NotFoundError } from '../../lib/errors';
import { log } from '../../lib/log';
import type { ContainerRecord } from './Container';

const RECORD = 'config.v2.json';
const NAME_RE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export class ContainerStore {
  private readonly byId = new Map<string, ContainerRecord>();
  private readonly byName = new Map<string, string>();

  constructor(readonly root: string) {}

  dir(id: string): string {
    return path.join(this.root, id);
  }

  async load(): Promise<ContainerRecord[]> {
    await fsp.mkdir(this.root, { recursive: true, mode: 0o710 });
    const loaded: ContainerRecord[] = [];
    for (const id of await fsp.readdir(this.root)) {
      if (id.startsWith('.rm-')) {
        await fsp.rm(path.join(this.root, id), { recursive: true, force: true });
        continue;
      }
      if (!/^[a-f0-9]{64}$/.test(id)) continue;
      await removeStaleTemps(this.dir(id));
      const rec = await readJsonIfExists<ContainerRecord>(path.join(this.dir(id), RECORD)).catch((e) => {
        log.warn('unreadable container record', { id, error: String(e) });
        return undefined;
      });
      if (!rec) {
        // A create that crashed before its record was written: nothing refers to it.
        await fsp.rm(this.dir(id), { recursive: true, force: true });
        continue;
      }
      this.byId.set(rec.Id, rec);
      this.byName.set(rec.Name, rec.Id);
      loaded.push(rec);
    }
    return loaded;
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
   * Writes the record. State changes are not fsynced (`durable: false`): after a power loss
   * the start-up reconcile corrects a stale state from what is really running.
   */
  async save(c: ContainerRecord, { durable = false } = {}): Promise<void> {
    await writeJsonAtomic(path.join(this.dir(c.Id), RECORD), c, 0o600, durable);
    this.byId.set(c.Id, c);
  }

  async delete(c: ContainerRecord): Promise<void> {
    this.byId.delete(c.Id);
    if (this.byName.get(c.Name) === c.Id) this.byName.delete(c.Name);
    // Drop the record first so a crash mid-removal never resurrects a half-removed container;
    // the rest of the directory is renamed away and deleted in the background.
    await fsp.rm(path.join(this.dir(c.Id), RECORD), { force: true });
    const trash = path.join(this.root, `.rm-${c.Id}`);
    try {
      await fsp.rename(this.dir(c.Id), trash);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    void fsp.rm(trash, { recursive: true, force: true }).catch(() => undefined);
  }
}
