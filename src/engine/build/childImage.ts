// A new image on top of another: the parent's layers plus (at most) one new layer, the parent's
// history plus one entry. What `docker commit` and every build step produce.
import type { Digest } from '../../lib/digest';
import type { ImageService } from '../images/ImageService';
import { hostArch } from '../images/types';
import type { LayerMeta } from '../../store/layers/types';
import type { HistoryEntry, ImageConfig, ImageRecord, ImageRunConfig } from '../../store/images/types';

/** The diff ID of an empty tar (1024 zero bytes): a layer that changes nothing. */
export const EMPTY_TAR_DIFF_ID = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

export interface ChildImageSpec {
  parent: ImageRecord | null;
  /** The new layer (pinned by the caller until this returns), or null for a metadata step. */
  layer: LayerMeta | null;
  config: ImageRunConfig;
  createdBy: string;
  comment?: string;
  author?: string;
  /** `container` and `container_config` of the image (commit, RUN). */
  container?: { id: string; config: ImageRunConfig };
  /** Fixed creation time (SOURCE_DATE_EPOCH); now by default. */
  created?: string;
  platform?: { os: string; architecture: string; variant?: string };
  /** The layers below when there is no parent image record (its image was force-removed). */
  baseDiffIds?: Digest[];
}

export async function registerChildImage(images: ImageService, spec: ChildImageSpec): Promise<ImageRecord> {
  const p = spec.parent?.config;
  const created = spec.created ?? new Date().toISOString();
  const empty = !spec.layer || spec.layer.diffId === EMPTY_TAR_DIFF_ID;
  const entry: HistoryEntry = {
    created,
    ...(spec.author ? { author: spec.author } : {}),
    created_by: spec.createdBy,
    ...(spec.comment ? { comment: spec.comment } : {}),
    ...(empty ? { empty_layer: true } : {}),
  };
  const diffIds: Digest[] = [...(p?.rootfs.diff_ids ?? spec.baseDiffIds ?? [])];
  if (!empty) diffIds.push(spec.layer!.diffId);
  const config: ImageConfig = {
    architecture: p?.architecture ?? spec.platform?.architecture ?? hostArch(),
    ...(p?.variant ? { variant: p.variant } : {}),
    os: p?.os ?? spec.platform?.os ?? 'linux',
    ...(spec.author ? { author: spec.author } : {}),
    ...(spec.comment ? { comment: spec.comment } : {}),
    config: spec.config,
    ...(spec.container ? { container: spec.container.id, container_config: spec.container.config } : {}),
    created,
    docker_version: 'berth',
    history: [...(p?.history ?? []), entry],
    rootfs: { type: 'layers', diff_ids: diffIds },
  };
  return images.registerImage(Buffer.from(JSON.stringify(config)), spec.parent ? { parent: spec.parent.id } : {});
}

/** The image-relevant part of a container's Config (what an image's `config` holds). */
export function runConfigOf(c: Record<string, unknown>): ImageRunConfig {
  const keys = ['User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels', 'StopSignal', 'Healthcheck', 'OnBuild', 'Shell', 'ArgsEscaped'];
  const out: ImageRunConfig = {};
  for (const k of keys) if (c[k] !== undefined) out[k] = JSON.parse(JSON.stringify(c[k])) as unknown;
  return out;
}
