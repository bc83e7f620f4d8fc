// Shared types and small helpers of the image service.
import type { EventBus } from '../events/EventBus';
import type { ContentStore } from '../../store/content/types';
import type { LayerStore } from '../../store/layers/types';
import type { ImageRecord, ImageStore, ImageRunConfig } from '../../store/images/types';
import { parseNormalizedNamed } from '../../lib/reference';

/** A container that uses an image; `running` decides between Docker's hard and soft conflicts. */
export interface ContainerUse {
  id: string;
  running: boolean;
}

/**
 * Registered by the container engine. Plain strings are taken as running containers (the
 * conservative choice: the image is never deleted from under them, even with force).
 */
export type ContainersUsingImage = (imageId: string) => Array<string | ContainerUse>;

export interface ImageDeps {
  content: ContentStore;
  layers: LayerStore;
  store: ImageStore;
  events?: EventBus;
  containersUsing(imageId: string): ContainerUse[];
  /** Data root, for staging areas. */
  root: string;
}

export interface DeleteItem {
  Untagged?: string;
  Deleted?: string;
}

/** A JSON-message stream item (load progress and results). */
export type ProgressMessage = Record<string, unknown>;

export function publishImageEvent(deps: ImageDeps, action: string, id: string, name: string, img?: ImageRecord): void {
  const attrs: Record<string, string> = {};
  const labels = img?.config.config?.Labels;
  if (labels) Object.assign(attrs, labels);
  attrs.name = name;
  deps.events?.publish('image', action, id, attrs);
}

/** a < b for API versions like "1.43". */
export function versionLess(a: string, b: string): boolean {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (x !== y) return x < y;
  }
  return false;
}

export function unixSeconds(iso: string | undefined): number {
  if (!iso) return 0;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 0 : Math.floor(t / 1000);
}

export function isNameOnly(s: string): boolean {
  try {
    const r = parseNormalizedNamed(s);
    return r.tag === undefined && r.digest === undefined;
  } catch {
    return false;
  }
}

/** Docker's container.Config as image inspect shows it (all keys present, unset ones empty/null). */
export function toContainerConfig(c: ImageRunConfig | undefined | null): Record<string, unknown> {
  const cfg = c ?? {};
  const out: Record<string, unknown> = {
    Hostname: '', Domainname: '', User: cfg.User ?? '',
    AttachStdin: false, AttachStdout: false, AttachStderr: false,
  };
  if (cfg.ExposedPorts && Object.keys(cfg.ExposedPorts).length) out.ExposedPorts = cfg.ExposedPorts;
  Object.assign(out, {
    Tty: false, OpenStdin: false, StdinOnce: false,
    Env: cfg.Env ?? null, Cmd: cfg.Cmd ?? null,
  });
  if (cfg.Healthcheck) out.Healthcheck = cfg.Healthcheck;
  if (cfg.ArgsEscaped) out.ArgsEscaped = true;
  Object.assign(out, {
    Image: typeof cfg.Image === 'string' ? cfg.Image : '',
    Volumes: cfg.Volumes ?? null, WorkingDir: cfg.WorkingDir ?? '',
    Entrypoint: cfg.Entrypoint ?? null, OnBuild: cfg.OnBuild ?? null, Labels: cfg.Labels ?? null,
  });
  if (cfg.StopSignal) out.StopSignal = cfg.StopSignal;
  if (cfg.Shell) out.Shell = cfg.Shell;
  return out;
}

export function hostArch(): string {
  switch (process.arch) {
    case 'x64': return 'amd64';
    case 'arm64': return 'arm64';
    case 'arm': return 'arm';
    case 'ia32': return '386';
    case 'ppc64': return 'ppc64le';
    case 's390x': return 's390x';
    default: return process.arch;
  }
}
