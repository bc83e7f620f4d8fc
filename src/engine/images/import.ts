// docker import: a rootfs tarball (any compression) becomes a one-layer image.
import type { Readable } from 'node:stream';
import { InvalidParameterError } from '../../lib/errors';
import type { ImageConfig, ImageRecord } from '../../store/images/ImageStore';
import { parseNormalizedNamed, Reference, validateTag } from '../../lib/reference';
import { applyChanges } from './changes';
import { hostArch, ImageDeps, publishImageEvent } from './types';
import { tagImage } from './tag';

export interface ImportOptions {
  /** `name` or `name:tag` (the `repo` query parameter). */
  repo?: string;
  /** A separate tag (the `tag` query parameter). */
  tag?: string;
  /** Dockerfile instructions (`changes`, repeated). */
  changes?: string[];
  /** The commit message (`message`); default `Imported from <src>`. */
  message?: string;
  /** What the data came from, for the default message: `-` for the request body. */
  source?: string;
  platform?: { os?: string; architecture?: string; variant?: string };
}

function targetRef(opts: ImportOptions): Reference | undefined {
  if (!opts.repo) return undefined;
  const r = parseNormalizedNamed(opts.repo);
  if (r.digest !== undefined) throw new InvalidParameterError('cannot import digest reference');
  if (opts.tag) {
    validateTag(opts.tag);
    r.tag = opts.tag;
  }
  if (r.tag === undefined) r.tag = 'latest';
  return r;
}

export async function importImage(deps: ImageDeps, src: Readable, opts: ImportOptions = {}): Promise<ImageRecord> {
  // Validate everything that can fail before reading the body.
  const ref = targetRef(opts);
  const runConfig = applyChanges({}, opts.changes ?? []);
  const layer = await deps.layers.createLayer(null, src);
  try {
    const created = new Date().toISOString();
    const message = opts.message || `Imported from ${opts.source ?? '-'}`;
    const config: ImageConfig = {
      architecture: opts.platform?.architecture || hostArch(),
      ...(opts.platform?.variant ? { variant: opts.platform.variant } : {}),
      os: opts.platform?.os || 'linux',
      comment: message,
      config: runConfig,
      created,
      docker_version: 'berth',
      history: [{ created, comment: message }],
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
    };
    const img = await deps.store.add(Buffer.from(JSON.stringify(config)));
    if (ref) await tagImage(deps, img.id, ref);
    publishImageEvent(deps, 'import', img.id, img.id, img);
    return deps.store.get(img.id)!;
  } finally {
    deps.layers.unpin([layer.chainId]);
  }
}
