// docker pull: resolve the reference to the platform's manifest (errors here come back as a
// plain error response, before any progress), then fetch the config and the layers (shared,
// bounded downloads), create each layer from its verified blob on its parent, store the image
// record and its tag and digest references last. A crash before the record leaves complete
// layers (reused by the next pull) and named ingests (resumed with Range), nothing visible.
import type { Digest } from '../../lib/digest';
import { InvalidParameterError, UnavailableError } from '../../lib/errors';
import { shortId } from '../../lib/ids';
import { crashPoint } from '../../lib/crashpoint';
import { DEFAULT_TAG, familiarString, parseNormalizedNamed, validateTag, type Reference } from '../../lib/reference';
import type { AuthConfig } from '../../distribution/auth';
import type { Distribution } from '../../distribution/Distribution';
import type { ResolvedImage } from '../../distribution/manifests';
import type { DownloadEvent } from '../../distribution/pull';
import type { ImageConfig, ImageRecord } from '../../store/images/types';
import { chainIdOf } from '../../store/layers/chainid';
import { parsePlatform, publishImageEvent, type ImageDeps } from './types';
import { progressItem, statusItem, throttled, type ProgressItem } from './progress';
import { tagImage } from './tag';

export interface PullOptions {
  /** `os[/arch[/variant]]` (--platform); linux/amd64 otherwise. */
  platform?: string;
  creds?: AuthConfig;
}

export interface PullResult {
  image: ImageRecord;
  /** The digest of what the reference named (index or manifest). */
  digest: Digest;
  /** False when the reference already pointed at this image ("Image is up to date"). */
  changed: boolean;
}

export interface PreparedPull {
  ref: Reference;
  resolved: ResolvedImage;
  /** Fetches and stores everything; progress goes to `emit`. */
  run(emit: (m: ProgressItem) => void): Promise<PullResult>;
}

const MAX_CONFIG_BYTES = 8 << 20;
const DIGEST_TAG = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;

/** `fromImage` + `tag` as POST /images/create receives them (the tag may be a digest). */
export function pullReference(fromImage: string, tag?: string): Reference {
  const ref = parseNormalizedNamed(fromImage);
  if (tag) {
    if (DIGEST_TAG.test(tag)) {
      if (!/^sha256:[a-f0-9]{64}$/.test(tag)) throw new InvalidParameterError(`invalid digest format: ${tag}`);
      ref.digest = tag;
    } else {
      validateTag(tag);
      ref.tag = tag;
    }
  }
  if (ref.tag === undefined && ref.digest === undefined) ref.tag = DEFAULT_TAG;
  return ref;
}

export async function preparePull(deps: ImageDeps, dist: Distribution, ref: Reference, opts: PullOptions = {}): Promise<PreparedPull> {
  const platform = opts.platform ? parsePlatform(opts.platform) : undefined;
  const resolved = await dist.resolve(ref, { platform, creds: opts.creds });
  return { ref, resolved, run: (emit) => runPull(deps, dist, ref, resolved, opts.creds, emit) };
}

function parseConfig(raw: Buffer, ref: Reference): ImageConfig {
  try {
    const c = JSON.parse(raw.toString()) as ImageConfig;
    if (!c || typeof c !== 'object' || !c.rootfs || !Array.isArray(c.rootfs.diff_ids)) throw new Error('no rootfs.diff_ids');
    return c;
  } catch (e) {
    throw new InvalidParameterError(`invalid image config for ${familiarString(ref)}: ${(e as Error).message}`);
  }
}

async function runPull(deps: ImageDeps, dist: Distribution, ref: Reference, resolved: ResolvedImage, creds: AuthConfig | undefined, emit: (m: ProgressItem) => void): Promise<PullResult> {
  const { manifest, endpoint } = resolved;
  const epCreds = dist.credsFor(endpoint, creds);
  emit({ status: `Pulling from ${ref.path}`, id: ref.tag ?? ref.digest });

  // the config first: it names the diff IDs every layer is checked against (and is read into
  // memory, so a registry claiming a huge one is refused before any byte)
  if (manifest.config.size > MAX_CONFIG_BYTES) {
    throw new InvalidParameterError(`image config of ${familiarString(ref)} is ${manifest.config.size} bytes: more than the ${MAX_CONFIG_BYTES} berth accepts`);
  }
  await dist.downloads.fetch({ endpoint, ref, desc: manifest.config, creds: epCreds });
  const configBytes = await deps.content.readBlob(manifest.config.digest);
  const config = parseConfig(configBytes, ref);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) {
    throw new InvalidParameterError(`layers from manifest don't match image configuration: ${manifest.layers.length} layers, ${diffIds.length} diff IDs`);
  }

  const chainIds: Digest[] = [];
  let parent: Digest | null = null;
  for (const d of diffIds) {
    parent = chainIdOf(parent, d);
    chainIds.push(parent);
  }
  const pinned: Digest[] = [];
  const present = chainIds.map((c) => deps.layers.has(c));
  // pin what is there, so a concurrent rmi cannot take it from under this pull
  for (let i = 0; i < chainIds.length; i++) {
    if (present[i]) { deps.layers.pin([chainIds[i]]); pinned.push(chainIds[i]); }
  }
  try {
    // Docker's order: every layer's first line, then downloads, then extraction in order
    manifest.layers.forEach((l, i) => emit(statusItem(present[i] ? 'Already exists' : 'Pulling fs layer', shortId(l.digest))));
    const downloads = manifest.layers.map((l, i) => {
      if (present[i]) return Promise.resolve();
      const id = shortId(l.digest);
      const showProgress = throttled(100, (cur: number, total: number) => emit(progressItem('Downloading', id, cur, total)));
      const onEvent = (e: DownloadEvent): void => {
        if (e.type === 'waiting') emit(statusItem('Waiting', id));
        else if (e.type === 'progress') showProgress(e.current === e.total, e.current, e.total);
        else if (e.type === 'verifying') emit(statusItem('Verifying Checksum', id));
        else emit(statusItem('Download complete', id));
      };
      return dist.downloads.fetch({ endpoint, ref, desc: l, creds: epCreds }, onEvent).then((r) => {
        if (r.existed) emit(statusItem('Download complete', id));
      });
    });
    // no unhandled rejections while the extraction waits on earlier layers
    downloads.forEach((p) => p.catch(() => undefined));

    // Each layer is created as soon as its blob is in and its parent's creation has begun: the
    // layer store extracts them side by side and records each only after its parent.
    let parentCalled: Promise<void> = Promise.resolve();
    const creates: Promise<void>[] = manifest.layers.map((l, i) => {
      if (present[i]) return Promise.resolve();
      const id = shortId(l.digest);
      const parentId = i === 0 ? null : chainIds[i - 1];
      let called!: () => void;
      const calledHere = new Promise<void>((r) => { called = r; });
      const ready = Promise.all([downloads[i], parentCalled]);
      parentCalled = calledHere;
      return ready.then(async () => {
        const total = l.size;
        const show = throttled(100, (cur: number) => emit(progressItem('Extracting', id, cur, total)));
        let creating: Promise<unknown>;
        try {
          creating = deps.layers.createLayerFromBlob(l.digest, parentId, {
            expectDiffId: diffIds[i],
            // uncompressed bytes against the compressed size: shown, never more than the total
            onProgress: (n) => show(false, Math.min(n, Math.max(0, total - 1))),
          });
        } finally {
          called();
        }
        try {
          await creating;
        } catch (e) {
          throw new UnavailableError(`failed to register layer ${l.digest}: ${(e as Error).message}`, { cause: e });
        }
        // pinned once by the store for us
        pinned.push(chainIds[i]);
        show(true, total);
        crashPoint('image.pull.after-layer');
        emit(statusItem('Pull complete', id));
      }, (e) => {
        called();
        throw e;
      });
    });
    creates.forEach((p) => p.catch(() => undefined));
    // the first failure in layer order is the one reported
    for (const c of creates) await c;
    await Promise.all(downloads);

    const before = ref.tag !== undefined ? deps.store.refTarget({ ...ref, digest: undefined }) : deps.store.refTarget(ref);
    const image = await deps.store.add(configBytes);
    const digestRef: Reference = { domain: ref.domain, path: ref.path, digest: resolved.top.digest };
    await deps.store.setRef(digestRef, image.id);
    if (ref.tag !== undefined) await tagImage(deps, image.id, { domain: ref.domain, path: ref.path, tag: ref.tag });
    const shown = familiarString(ref);
    publishImageEvent(deps, 'pull', shown, shown, deps.store.get(image.id));
    emit({ status: `Digest: ${resolved.top.digest}` });
    const changed = before !== image.id;
    emit({ status: changed ? `Status: Downloaded newer image for ${shown}` : `Status: Image is up to date for ${shown}` });
    return { image: deps.store.get(image.id)!, digest: resolved.top.digest, changed };
  } finally {
    deps.layers.unpin(pinned);
  }
}
