// Shared types and small helpers of the image service.
import type { DistributionMetadata } from './distmeta';
import type { EventBus } from '../events/EventBus';
import type { ContentStore } from '../../store/content/types';
import type { LayerStore } from '../../store/layers/types';
import type { ImageRecord, ImageStore, ImageRunConfig } from '../../store/images/types';
import { parseNormalizedNamed } from '../../lib/reference';
import { InvalidParameterError, NotFoundError } from '../../lib/errors';

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
  /** The distribution metadata (the compressed blobs made for pushes go with their layers). */
  distMeta?: DistributionMetadata;
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

const ARCH_ALIASES: Record<string, string> = { x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', armhf: 'arm', i386: '386' };

/** `os[/arch[/variant]]` as containerd's platforms.Parse reads it (lower case, common aliases). */
export function parsePlatform(spec: string): { os: string; architecture?: string; variant?: string } {
  const parts = spec.toLowerCase().split('/');
  if (parts.length > 3 || parts.some((p) => !/^[a-z0-9_.-]+$/.test(p))) {
    throw new InvalidParameterError(`failed to parse platform ${JSON.stringify(spec)}: invalid platform specifier`);
  }
  const [os, arch, variant] = parts;
  return { os, ...(arch ? { architecture: ARCH_ALIASES[arch] ?? arch } : {}), ...(variant ? { variant } : {}) };
}

/**
 * `docker create --platform`: an image of another platform is not run as if it matched
 * (Docker: NotFound, then the CLI tries to pull the right one).
 */
export function checkImagePlatform(img: ImageRecord, ref: string, spec: string): void {
  const want = parsePlatform(spec);
  const c = img.config;
  const actual = [c.os ?? '', c.architecture ?? '', ...(c.variant ? [c.variant] : [])].join('/');
  const ok = want.os === (c.os ?? '') && (!want.architecture || want.architecture === c.architecture)
    && (!want.variant || !c.variant || want.variant === c.variant);
  if (!ok) {
    const wanted = [want.os, want.architecture, want.variant].filter(Boolean).join('/');
    throw new NotFoundError(`image with reference ${ref} was found but does not match the specified platform: wanted ${wanted}, actual: ${actual}`);
  }
}
