// Per-object template contexts: the fields docker's --format exposes for ps, images, history and stats.
import type { ContainerSummary, HistoryItem, ImageSummary, StatsJSON } from '../../client/types';
import { contextJSON, ellipsis, goQuote, goTimeString, truncateId } from './formatter';
import { displayablePorts } from './ports';
import { bytesSize, humanSize, humanSizeWithPrecision, timeAgo } from './units';
import { familiarRepo, familiarString, parseNormalizedNamed } from '../../lib/reference';

// ------------------------------------------------------------------ containers (ps)

export const CONTAINER_HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED',
  Ports: 'PORTS', State: 'STATE', Status: 'STATUS', Size: 'SIZE', Names: 'NAMES', Labels: 'LABELS',
  Label: 'LABEL', Mounts: 'MOUNTS', LocalVolumes: 'LOCAL VOLUMES', Networks: 'NETWORKS', Platform: 'PLATFORM',
};

export const DEFAULT_PS_FORMAT = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';

const CONTAINER_FIELDS = ['Command', 'CreatedAt', 'ID', 'Image', 'Labels', 'LocalVolumes', 'Mounts', 'Names', 'Networks', 'Ports', 'RunningFor', 'Size', 'State', 'Status'];

export class ContainerContext {
  constructor(private readonly c: ContainerSummary, private readonly trunc = true, private readonly now = Date.now()) {}

  ID(): string { return this.trunc ? truncateId(this.c.Id) : this.c.Id; }

  Names(): string {
    let names = (this.c.Names ?? []).map((n) => n.replace(/^\//, ''));
    if (this.trunc) {
      const plain = names.find((n) => n.split('/').length === 1);
      if (plain !== undefined) names = [plain];
    }
    return names.join(',');
  }

  Image(): string {
    const img = this.c.Image;
    if (!img) return '<no image>';
    if (this.trunc) {
      if (this.c.ImageID && truncateId(this.c.ImageID) === truncateId(img)) return truncateId(img);
      try {
        const r = parseNormalizedNamed(img);
        return r.tag ? familiarString({ ...r, digest: undefined }) : familiarRepo(r);
      } catch { /* not a reference */ }
    }
    return img;
  }

  Command(): string {
    let cmd = this.c.Command ?? '';
    if (this.trunc) cmd = ellipsis(cmd, 20);
    return goQuote(cmd);
  }

  CreatedAt(): string { return goTimeString(this.c.Created); }
  RunningFor(): string { return timeAgo(this.c.Created, this.now); }
  Ports(): string { return displayablePorts(this.c.Ports); }
  State(): string { return this.c.State; }
  Status(): string { return this.c.Status; }

  Size(): string {
    const srw = humanSizeWithPrecision(this.c.SizeRw ?? 0, 3);
    if ((this.c.SizeRootFs ?? 0) > 0) return `${srw} (virtual ${humanSizeWithPrecision(this.c.SizeRootFs ?? 0, 3)})`;
    return srw;
  }

  Labels(): string {
    const l = this.c.Labels ?? {};
    return Object.keys(l).sort().map((k) => `${k}=${l[k]}`).join(',');
  }

  Label(name: string): string {
    return (this.c.Labels ?? {})[name] ?? '';
  }

  Mounts(): string {
    return (this.c.Mounts ?? []).map((m) => {
      const n = m.Name || m.Source || '';
      return this.trunc ? ellipsis(n, 15) : n;
    }).join(',');
  }

  LocalVolumes(): string {
    return String((this.c.Mounts ?? []).filter((m) => m.Type === 'volume' || (!!m.Name && m.Type !== 'bind')).length);
  }

  Networks(): string {
    return Object.keys(this.c.NetworkSettings?.Networks ?? {}).sort().join(',');
  }

  toJSON(): Record<string, unknown> { return contextJSON(this, CONTAINER_FIELDS); }
}

// ------------------------------------------------------------------ images

export const IMAGE_HEADERS: Record<string, string> = {
  ID: 'IMAGE ID', Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT',
  Size: 'SIZE', Containers: 'CONTAINERS', VirtualSize: 'VIRTUAL SIZE', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE',
};

export const DEFAULT_IMAGES_FORMAT = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
export const DEFAULT_IMAGES_DIGEST_FORMAT = 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';

const IMAGE_FIELDS = ['Containers', 'CreatedAt', 'CreatedSince', 'Digest', 'ID', 'Repository', 'SharedSize', 'Size', 'Tag', 'UniqueSize', 'VirtualSize'];

export class ImageContext {
  constructor(private readonly i: ImageSummary, readonly repo: string, readonly tag: string, readonly digest: string,
    private readonly trunc = true, private readonly now = Date.now()) {}

  ID(): string { return this.trunc ? truncateId(this.i.Id) : this.i.Id; }
  Repository(): string { return this.repo; }
  Tag(): string { return this.tag; }
  Digest(): string { return this.digest; }
  CreatedSince(): string { return this.i.Created ? timeAgo(this.i.Created, this.now) : 'N/A'; }
  CreatedAt(): string { return goTimeString(this.i.Created); }
  Size(): string { return humanSizeWithPrecision(this.i.Size, 3); }
  Containers(): string { return this.i.Containers === -1 ? 'N/A' : String(this.i.Containers); }
  VirtualSize(): string { return humanSizeWithPrecision(this.i.VirtualSize ?? this.i.Size, 3); }
  // docker's imageContext: four digits here, three for Size
  SharedSize(): string { return this.i.SharedSize === -1 ? 'N/A' : humanSize(this.i.SharedSize); }
  UniqueSize(): string { return this.i.SharedSize === -1 || this.i.Size === -1 ? 'N/A' : humanSize(this.i.Size - this.i.SharedSize); }

  toJSON(): Record<string, unknown> { return contextJSON(this, IMAGE_FIELDS); }
}

/** One row per repo:tag (and per digest with --digests), like docker's imageFormatTaggedAndDigest. */
export function imageRows(images: ImageSummary[], opts: { digests?: boolean; trunc?: boolean; now?: number } = {}): ImageContext[] {
  const rows: ImageContext[] = [];
  const trunc = opts.trunc ?? true;
  for (const img of images) {
    const tags = (img.RepoTags ?? []).filter((t) => t !== '<none>:<none>');
    const digs = (img.RepoDigests ?? []).filter((d) => d !== '<none>@<none>');
    if (!tags.length && !digs.length) {
      rows.push(new ImageContext(img, '<none>', '<none>', '<none>', trunc, opts.now));
      continue;
    }
    const repoTags = new Map<string, string[]>();
    const repoDigests = new Map<string, string[]>();
    for (const t of tags) {
      try {
        const r = parseNormalizedNamed(t);
        if (!r.tag) continue;
        const name = familiarRepo(r);
        repoTags.set(name, [...(repoTags.get(name) ?? []), r.tag]);
      } catch { /* skip */ }
    }
    for (const d of digs) {
      try {
        const r = parseNormalizedNamed(d);
        if (!r.digest) continue;
        const name = familiarRepo(r);
        repoDigests.set(name, [...(repoDigests.get(name) ?? []), r.digest]);
      } catch { /* skip */ }
    }
    for (const [repo, ts] of repoTags) {
      let ds = repoDigests.get(repo) ?? [];
      repoDigests.delete(repo);
      if (!opts.digests) ds = [];
      for (const t of ts) {
        if (!ds.length) rows.push(new ImageContext(img, repo, t, '<none>', trunc, opts.now));
        else for (const d of ds) rows.push(new ImageContext(img, repo, t, d, trunc, opts.now));
      }
    }
    for (const [repo, ds] of repoDigests) {
      if (opts.digests) for (const d of ds) rows.push(new ImageContext(img, repo, '<none>', d, trunc, opts.now));
      else rows.push(new ImageContext(img, repo, '<none>', '', trunc, opts.now));
    }
  }
  return rows;
}

// ------------------------------------------------------------------ history

export const HISTORY_HEADERS: Record<string, string> = {
  ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT',
};
export const DEFAULT_HISTORY_FORMAT = 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';

export class HistoryContext {
  constructor(private readonly h: HistoryItem, private readonly trunc = true, private readonly human = true, private readonly now = Date.now()) {}
  ID(): string { return this.trunc && this.h.Id !== '<missing>' ? truncateId(this.h.Id) : this.h.Id; }
  CreatedSince(): string { return this.human ? timeAgo(this.h.Created, this.now) : new Date(this.h.Created * 1000).toISOString().replace(/\.\d+Z$/, 'Z'); }
  CreatedAt(): string { return new Date(this.h.Created * 1000).toISOString().replace(/\.\d+Z$/, 'Z'); }
  CreatedBy(): string {
    const c = (this.h.CreatedBy ?? '').replace(/\t/g, ' ');
    return this.trunc ? ellipsis(c, 45) : c;
  }
  Size(): string { return this.human ? humanSizeWithPrecision(this.h.Size, 3) : String(this.h.Size); }
  Comment(): string { return this.h.Comment ?? ''; }
  toJSON(): Record<string, unknown> { return contextJSON(this, ['Comment', 'CreatedAt', 'CreatedBy', 'CreatedSince', 'ID', 'Size']); }
}

// ------------------------------------------------------------------ stats

export const STATS_HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID', Container: 'CONTAINER', Name: 'NAME', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %', NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS',
};
export const DEFAULT_STATS_FORMAT = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';

export interface StatsEntry {
  container: string; // as given by the user (name or id)
  name: string;
  id: string;
  cpuPercentage: number;
  memory: number;
  memoryLimit: number;
  memoryPercentage: number;
  networkRx: number;
  networkTx: number;
  blockRead: number;
  blockWrite: number;
  pidsCurrent: number;
  isInvalid?: boolean;
}

/** Compute the numbers docker stats shows from one stats sample. */
export function computeStats(container: string, s: StatsJSON): StatsEntry {
  const cpuDelta = (s.cpu_stats?.cpu_usage?.total_usage ?? 0) - (s.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const sysDelta = (s.cpu_stats?.system_cpu_usage ?? 0) - (s.precpu_stats?.system_cpu_usage ?? 0);
  let online = s.cpu_stats?.online_cpus ?? 0;
  if (!online) online = s.cpu_stats?.cpu_usage?.percpu_usage?.length ?? 0;
  let cpu = 0;
  if (sysDelta > 0 && cpuDelta > 0) cpu = (cpuDelta / sysDelta) * online * 100;
  const ms = s.memory_stats ?? {};
  const st = ms.stats ?? {};
  let mem = ms.usage ?? 0;
  // cgroup v1: usage - total_inactive_file; v2: usage - inactive_file
  if (st.total_inactive_file !== undefined && st.total_inactive_file < mem) mem -= st.total_inactive_file;
  else if (st.inactive_file !== undefined && st.inactive_file < mem) mem -= st.inactive_file;
  const limit = ms.limit ?? 0;
  const memPct = limit ? (mem / limit) * 100 : 0;
  let rx = 0, tx = 0;
  for (const n of Object.values(s.networks ?? {})) { rx += n.rx_bytes ?? 0; tx += n.tx_bytes ?? 0; }
  let br = 0, bw = 0;
  for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = (e.op ?? '').toLowerCase();
    if (op === 'read') br += e.value;
    else if (op === 'write') bw += e.value;
  }
  return {
    container, name: (s.name ?? '').replace(/^\//, ''), id: s.id ?? '', cpuPercentage: cpu, memory: mem, memoryLimit: limit,
    memoryPercentage: memPct, networkRx: rx, networkTx: tx, blockRead: br, blockWrite: bw, pidsCurrent: s.pids_stats?.current ?? 0,
  };
}

export class StatsContext {
  constructor(private readonly s: StatsEntry, private readonly trunc = true) {}
  Container(): string { return this.s.container; }
  Name(): string { return this.s.name || '--'; }
  ID(): string { return this.trunc ? truncateId(this.s.id) : this.s.id; }
  CPUPerc(): string { return this.s.isInvalid ? '--' : `${this.s.cpuPercentage.toFixed(2)}%`; }
  MemUsage(): string { return this.s.isInvalid ? '-- / --' : `${bytesSize(this.s.memory)} / ${bytesSize(this.s.memoryLimit)}`; }
  MemPerc(): string { return this.s.isInvalid ? '--' : `${this.s.memoryPercentage.toFixed(2)}%`; }
  NetIO(): string { return this.s.isInvalid ? '--' : `${humanSizeWithPrecision(this.s.networkRx, 3)} / ${humanSizeWithPrecision(this.s.networkTx, 3)}`; }
  BlockIO(): string { return this.s.isInvalid ? '--' : `${humanSizeWithPrecision(this.s.blockRead, 3)} / ${humanSizeWithPrecision(this.s.blockWrite, 3)}`; }
  PIDs(): string { return this.s.isInvalid ? '--' : String(this.s.pidsCurrent); }
  toJSON(): Record<string, unknown> { return contextJSON(this, ['BlockIO', 'CPUPerc', 'Container', 'ID', 'MemPerc', 'MemUsage', 'Name', 'NetIO', 'PIDs']); }
}
