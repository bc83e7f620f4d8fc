// docker commit and docker diff: a container's writable layer as a new image, or as a list of
// changes. The layer store turns the upper dir into a layer tar with whiteouts (commitMount);
// the listing of changes is store/layers/diff.ts.
import { ConflictError } from '../../lib/errors';
import { parseTagTarget } from '../images/tag';
import { applyChanges } from '../images/changes';
import type { ImageService } from '../images/ImageService';
import type { ContainerService } from '../containers/ContainerService';
import { listChanges, type LayerChange } from '../../store/layers/diff';
import type { ImageRecord, ImageRunConfig } from '../../store/images/types';
import { EMPTY_TAR_DIFF_ID, registerChildImage, runConfigOf } from './childImage';

/**
 * What the runtime puts into a writable layer as mount points (Docker keeps these in its init
 * layer): never reported by diff.
 */
export const RUNTIME_MOUNT_POINTS = ['/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/etc/mtab', '/.dockerenv', '/dev', '/proc', '/sys'];

export interface CommitOptions {
  /** `name[:tag]` (repo and tag query parameters joined). */
  repo?: string;
  tag?: string;
  comment?: string;
  author?: string;
  changes?: string[];
  /** Pause a running container while its layer is read (Docker's default: true). */
  pause?: boolean;
  /** The request body's Config, if any: the base of the new image's config. */
  config?: Record<string, unknown> | null;
}

export interface CommitDeps {
  images: ImageService;
  containers: ContainerService;
}

export async function commitContainer(deps: CommitDeps, ref: string, opts: CommitOptions = {}): Promise<ImageRecord> {
  const c = deps.containers.store.get(ref);
  if (c.State.Status === 'removing' || c.State.Dead) throw new ConflictError(`You cannot commit container ${c.Id} which is being removed or is dead`);
  // Validate before any work: the reference and the change instructions.
  const target = opts.repo ? parseTagTarget(opts.repo, opts.tag) : undefined;
  const containerCfg = runConfigOf(c.Config);
  const base: ImageRunConfig = opts.config ? runConfigOf(opts.config) : containerCfg;
  const newConfig = applyChanges(base, opts.changes ?? []);
  for (const [k, v] of Object.entries(containerCfg)) {
    const cur = newConfig[k];
    const unset = cur === undefined || cur === null || cur === '' || (Array.isArray(cur) && cur.length === 0);
    if (unset) newConfig[k] = v;
  }
  const parent = deps.images.store.get(c.Image as never) ?? null;
  const pause = (opts.pause ?? true) && c.State.Running && !c.State.Paused;
  if (pause) await deps.containers.pause(c.Id);
  let layer;
  try {
    layer = await deps.images.layers.commitMount(c.Id);
  } finally {
    if (pause) await deps.containers.unpause(c.Id).catch(() => undefined);
  }
  try {
    const img = await registerChildImage(deps.images, {
      parent, layer, config: newConfig,
      createdBy: (c.Config.Cmd ?? []).join(' '),
      comment: opts.comment, author: opts.author,
      container: { id: c.Id, config: containerCfg },
      // The image may have been force-removed: its layers are still the container's.
      ...(parent ? {} : { baseDiffIds: deps.images.layers.chain((c.ImageChainId ?? null) as never).map((l) => l.diffId) }),
    });
    if (target && opts.repo) await deps.images.tag(img.id, opts.repo, opts.tag);
    deps.containers.publish(c, 'commit', { comment: opts.comment ?? '', imageID: img.id, imageRef: opts.repo ?? '' });
    return deps.images.store.get(img.id)!;
  } finally {
    deps.images.layers.unpin([layer.chainId]);
    // A layer that changed nothing is not in the image: drop it.
    if (layer.diffId === EMPTY_TAR_DIFF_ID) await deps.images.gcLayers().catch(() => undefined);
  }
}

/** docker diff: the container's changes, Docker's kinds (0 changed, 1 added, 2 deleted). */
export async function containerChanges(deps: CommitDeps, ref: string): Promise<LayerChange[]> {
  const c = deps.containers.store.get(ref);
  const info = await deps.images.mountInfo(c.Id);
  return listChanges(info.upperDir, info.lowerDirs, { ignore: RUNTIME_MOUNT_POINTS });
}
