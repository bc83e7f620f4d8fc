// NetworkStore on disk: <data-root>/networks/<id>.json and
// <data-root>/networks/endpoints/<container id>.json, each written temp file + fsync + rename.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { readRecord, removeStaleTemps, writeJsonAtomic } from '../../lib/atomic';
import type { ContainerEndpoints, NetworkRecord, NetworkStore } from './types';

const ID = /^[0-9a-f]{64}$/;

export class LocalNetworkStore implements NetworkStore {
  readonly dir: string;
  private readonly epDir: string;

  constructor(dataRoot: string) {
    this.dir = path.join(dataRoot, 'networks');
    this.epDir = path.join(this.dir, 'endpoints');
  }

  async load(): Promise<{ networks: NetworkRecord[]; endpoints: ContainerEndpoints[]; unreadable: string[] }> {
    await fsp.mkdir(this.epDir, { recursive: true, mode: 0o700 });
    await Promise.all([removeStaleTemps(this.dir), removeStaleTemps(this.epDir)]);
    const unreadable: string[] = [];
    const read = async <T>(dir: string, check: (v: unknown) => string | undefined): Promise<T[]> => {
      const names = (await fsp.readdir(dir)).filter((f) => f.endsWith('.json') && ID.test(f.slice(0, -5)));
      const out: T[] = [];
      for (const f of names) {
        try {
          const v = await readRecord<T>(path.join(dir, f), check);
          if (v) out.push(v);
        } catch {
          unreadable.push(path.join(dir, f));
        }
      }
      return out;
    };
    const networks = await read<NetworkRecord>(this.dir, (v) => (typeof (v as NetworkRecord)?.Id === 'string' && typeof (v as NetworkRecord).Name === 'string' ? undefined : 'not a network record'));
    const endpoints = await read<ContainerEndpoints>(this.epDir, (v) => (Array.isArray((v as ContainerEndpoints)?.Endpoints) ? undefined : 'not an endpoint record'));
    return { networks, endpoints, unreadable };
  }

  async saveNetwork(n: NetworkRecord): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o700 });
    return writeJsonAtomic(path.join(this.dir, `${n.Id}.json`), n, 0o600, 'full');
  }

  async removeNetwork(id: string): Promise<void> {
    await fsp.rm(path.join(this.dir, `${id}.json`), { force: true });
  }

  async saveEndpoints(e: ContainerEndpoints): Promise<void> {
    await fsp.mkdir(this.epDir, { recursive: true, mode: 0o700 });
    // Temp file + rename without fsync: a crash of berthd still finds the record (the page
    // cache has it); a power cut loses it together with what it describes (namespaces, veths,
    // the running task), and reconcile sweeps by the exec root and the devices' aliases anyway.
    // An fsync here cost 5-10 ms of every start.
    return writeJsonAtomic(path.join(this.epDir, `${e.ContainerId}.json`), e, 0o600, 'none');
  }

  async removeEndpoints(containerId: string): Promise<void> {
    await fsp.rm(path.join(this.epDir, `${containerId}.json`), { force: true });
  }
}
