// The volume rules over a VolumeStore: Docker's names, the local driver and its options,
// which containers use each volume (from their records: rebuilt at start), the mounts of
// volumes with a device (made for the first running user, undone after the last), filters,
// prune, events and sizes.
import { randomBytes } from 'node:crypto';
import { ConflictError, InvalidParameterError, NotFoundError } from '../../lib/errors';
import { checkFilterKeys, matchLabels, matchNotLabels, type Filters } from '../../lib/filters';
import { KeyedMutex } from '../../lib/mutex';
import { isMountPoint } from '../../store/layers/mounts';
import { dirSize } from '../../store/layers/LayerStore';
import type { EventBus } from '../events/EventBus';
import { mountVolume, needsMount, unmountVolume, validateDriverOptions } from './driver';
import { ANONYMOUS_LABEL, isAnonymous, type VolumeRecord, type VolumeStore } from './types';

export interface CreateVolumeRequest {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

export interface VolumeUsage { Size: number; RefCount: number }

/** How a volume that a container names is made if it does not exist. */
export interface ClaimOptions {
  labels?: Record<string, string> | null;
  driverOpts?: Record<string, string> | null;
  /** Made for this container alone (`-v /path`, VOLUME): labelled as Docker labels it. */
  anonymous?: boolean;
  driver?: string;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function validVolumeName(name: string): boolean {
  return NAME.test(name);
}

/** A local volume is a directory named after it, staged under a longer name (NAME_MAX is 255 bytes). */
const MAX_NAME_BYTES = 200;

function invalidName(name: string): InvalidParameterError {
  return new InvalidParameterError(`create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
}

export class VolumeService {
  /** Containers (by ID) whose records name each volume: a used volume is not removed. */
  private readonly users = new Map<string, Set<string>>();
  /** Running containers that have each device-backed volume mounted. */
  private readonly active = new Map<string, Set<string>>();
  private readonly locks = new KeyedMutex();

  constructor(readonly store: VolumeStore, private readonly events?: EventBus) {}

  async open(): Promise<void> {
    await this.store.reconcile();
  }

  // ---- create, inspect, list, remove, prune

  async create(req: CreateVolumeRequest): Promise<VolumeRecord> {
    const name = req.Name || randomBytes(32).toString('hex');
    return this.locks.run(name, () => this.createLocked(name, req));
  }

  private async createLocked(name: string, req: CreateVolumeRequest): Promise<VolumeRecord> {
    if (!validVolumeName(name)) throw invalidName(name);
    if (Buffer.byteLength(name) > MAX_NAME_BYTES) throw new InvalidParameterError(`create ${name.slice(0, 64)}...: a local volume name is at most ${MAX_NAME_BYTES} bytes`);
    const driver = req.Driver || 'local';
    if (driver !== 'local') throw new NotFoundError(`error looking up volume plugin ${driver}: plugin "${driver}" not found`);
    const existing = this.store.get(name);
    // As Docker: creating a volume that exists with the same driver returns it.
    if (existing) return existing;
    const options = validateDriverOptions(req.DriverOpts);
    if (req.Labels !== null && req.Labels !== undefined && (typeof req.Labels !== 'object' || Array.isArray(req.Labels))) throw new InvalidParameterError('invalid volume labels: not a map');
    // Kept as sent (none: null, an empty map: {}), as Docker shows them.
    const labels = req.Labels ? { ...req.Labels } : null;
    const rec: VolumeRecord = {
      Name: name, Driver: driver, CreatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), Labels: labels, Options: options,
    };
    await this.store.create(rec);
    this.events?.publish('volume', 'create', name, { driver });
    return rec;
  }

  inspect(name: string): VolumeRecord {
    const v = this.store.get(name);
    if (!v) throw new NotFoundError(`get ${name}: no such volume`);
    return v;
  }

  mountpoint(name: string): string {
    return this.store.dataPath(name);
  }

  list(filters: Filters): VolumeRecord[] {
    checkFilterKeys(filters, ['dangling', 'name', 'label', 'label!', 'driver']);
    const dangling = filters.get('dangling');
    let wantDangling: boolean | undefined;
    if (dangling && dangling.length) {
      const v = dangling[0].toLowerCase();
      if (!['true', 'false', '1', '0'].includes(v)) throw new InvalidParameterError(`invalid filter 'dangling=${dangling[0]}'`);
      wantDangling = v === 'true' || v === '1';
    }
    const names = filters.get('name') ?? [];
    const drivers = filters.get('driver') ?? [];
    return this.store.list()
      .filter((v) => wantDangling === undefined || this.inUse(v.Name) !== wantDangling)
      .filter((v) => names.length === 0 || names.some((n) => v.Name.includes(n)))
      .filter((v) => drivers.length === 0 || drivers.includes(v.Driver))
      .filter((v) => matchLabels(v.Labels, filters.get('label')) && matchNotLabels(v.Labels, filters.get('label!')))
      .sort((a, b) => a.Name.localeCompare(b.Name));
  }

  async remove(name: string, opts: { force?: boolean } = {}): Promise<void> {
    await this.locks.run(name, async () => {
      const v = this.store.get(name);
      if (!v) {
        if (opts.force) return;
        throw new NotFoundError(`get ${name}: no such volume`);
      }
      const users = this.usersOf(name);
      // Docker refuses an in-use volume with or without force.
      if (users.length > 0) throw new ConflictError(`remove ${name}: volume is in use - [${users.join(', ')}]`);
      if (needsMount(v.Options) && await isMountPoint(this.store.dataPath(name))) unmountVolume(this.store.dataPath(name));
      await this.store.remove(name);
      this.events?.publish('volume', 'destroy', name, { driver: v.Driver });
    });
  }

  /** Unused volumes: anonymous ones, or all with `all=true`; label filters narrow it. */
  async prune(filters: Filters): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }> {
    checkFilterKeys(filters, ['label', 'label!', 'all']);
    const allValues = filters.get('all') ?? [];
    for (const a of allValues) if (!['true', 'false', '1', '0'].includes(a.toLowerCase())) throw new InvalidParameterError(`invalid filter 'all=${a}'`);
    const all = allValues.some((a) => a === 'true' || a === '1');
    const out = { VolumesDeleted: [] as string[], SpaceReclaimed: 0 };
    for (const v of this.store.list()) {
      if (this.inUse(v.Name)) continue;
      if (!all && !isAnonymous(v)) continue;
      if (!matchLabels(v.Labels, filters.get('label')) || !matchNotLabels(v.Labels, filters.get('label!'))) continue;
      const size = needsMount(v.Options) ? 0 : await dirSize(this.store.dataPath(v.Name));
      try {
        await this.remove(v.Name);
      } catch (e) {
        if (e instanceof ConflictError || e instanceof NotFoundError) continue; // claimed or gone meanwhile
        throw e;
      }
      out.VolumesDeleted.push(v.Name);
      out.SpaceReclaimed += size;
    }
    return out;
  }

  /** `system df`: each volume with its size (-1 for a device-backed one, as Docker) and users. */
  async usage(): Promise<{ volume: VolumeRecord; usage: VolumeUsage }[]> {
    return Promise.all(this.list(new Map()).map(async (volume) => ({
      volume,
      usage: { Size: needsMount(volume.Options) ? -1 : await dirSize(this.store.dataPath(volume.Name)), RefCount: this.usersOf(volume.Name).length },
    })));
  }

  // ---- use by containers

  usersOf(name: string): string[] {
    return [...(this.users.get(name) ?? [])].sort();
  }

  inUse(name: string): boolean {
    return (this.users.get(name)?.size ?? 0) > 0;
  }

  /**
   * Makes (or finds) a volume and records that container `id` uses it, in one step under the
   * volume's lock, so a removal can not slip in between.
   */
  async claim(name: string | undefined, id: string, opts: ClaimOptions = {}): Promise<VolumeRecord> {
    const key = name || randomBytes(32).toString('hex');
    return this.locks.run(key, async () => {
      const labels = opts.anonymous ? { ...(opts.labels ?? {}), [ANONYMOUS_LABEL]: '' } : opts.labels;
      const v = await this.createLocked(key, { Name: key, Driver: opts.driver, DriverOpts: opts.driverOpts, Labels: labels });
      this.addUser(v.Name, id);
      return v;
    });
  }

  private addUser(name: string, id: string): void {
    let s = this.users.get(name);
    if (!s) this.users.set(name, (s = new Set()));
    s.add(id);
  }

  /** The container is gone (or its create failed): it uses nothing any more. */
  releaseContainer(id: string): void {
    for (const [name, s] of this.users) {
      s.delete(id);
      if (s.size === 0) this.users.delete(name);
    }
  }

  /** At start, from the container records: who uses what. */
  rebuildUsers(uses: { id: string; volumes: string[] }[]): void {
    this.users.clear();
    for (const u of uses) for (const v of u.volumes) if (this.store.get(v)) this.addUser(v, u.id);
  }

  // ---- mounts, following the running users (a device-backed volume's device is mounted for them)

  /**
   * The path a starting container bind-mounts; a device-backed volume is mounted first if no
   * running container has it. `attrs` go with the mount event (destination, read/write);
   * `fill` runs on it first (copy-up).
   */
  async mountFor(name: string, id: string, attrs: Record<string, string> = {}, fill?: (target: string, staging?: string) => Promise<unknown>): Promise<string> {
    return this.locks.run(name, async () => {
      const v = this.inspect(name);
      const target = this.store.dataPath(name);
      const s = this.active.get(name) ?? new Set<string>();
      const mountHere = needsMount(v.Options) && s.size === 0 && !(await isMountPoint(target));
      if (mountHere) mountVolume(v.Options!, target);
      // Under the volume's lock: two containers starting on one empty volume copy up once.
      if (fill) {
        // Filled whole and renamed in, unless the data directory is a device's mount or some
        // running container holds it (its bind would keep the old, empty directory).
        const staging = !needsMount(v.Options) && s.size === 0 ? this.store.stagingPath(name) : undefined;
        try { await fill(target, staging); } catch (e) { if (mountHere) unmountVolume(target); throw e; }
      }
      s.add(id);
      this.active.set(name, s);
      this.events?.publish('volume', 'mount', name, { container: id, driver: v.Driver, ...attrs });
      return target;
    });
  }

  /** The container stopped: the last user of a device-backed volume unmounts it. */
  async unmountFor(name: string, id: string): Promise<void> {
    await this.locks.run(name, async () => {
      const s = this.active.get(name);
      if (!s || !s.delete(id)) return;
      const v = this.store.get(name);
      this.events?.publish('volume', 'unmount', name, { container: id, driver: v?.Driver ?? 'local' });
      if (s.size > 0) return;
      this.active.delete(name);
      if (v && needsMount(v.Options)) unmountVolume(this.store.dataPath(name));
    });
  }

  /** At start: running containers keep their volumes mounted; anything else is unmounted. */
  async reconcileMounts(running: { id: string; volumes: string[] }[]): Promise<void> {
    this.active.clear();
    for (const r of running) for (const v of r.volumes) {
      const s = this.active.get(v) ?? new Set<string>();
      s.add(r.id);
      this.active.set(v, s);
    }
    for (const v of this.store.list()) {
      if (!needsMount(v.Options) || this.active.has(v.Name)) continue;
      if (await isMountPoint(this.store.dataPath(v.Name))) unmountVolume(this.store.dataPath(v.Name));
    }
  }
}
