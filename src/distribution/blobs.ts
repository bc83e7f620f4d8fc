// Fetching one blob into the content store through a named ingest (`pull-<digest>`): verified
// against the descriptor's size while it streams and against its digest at commit (nothing is
// visible before), resumed with `Range: bytes=<offset>-` from what an earlier attempt (or a
// berthd killed mid-pull) already wrote. A dropped or stalled connection is retried from there.
import type { Digest } from '../lib/digest';
import { InvalidParameterError, NotFoundError, UnavailableError, errorMessage } from '../lib/errors';
import type { Reference } from '../lib/reference';
import { ContentExistsError, type ContentStore, type ContentWriter } from '../store/content/types';
import type { AuthConfig } from './auth';
import { registryErrorText, type RegistryClient } from './client';
import type { Descriptor } from './manifests';
import type { Endpoint } from './resolver';

export interface FetchBlobOptions {
  creds?: AuthConfig;
  /** Bytes of the blob held so far (including resumed ones). */
  onProgress?: (current: number, total: number) => void;
  /** All bytes are in, the digest is being checked. */
  onVerify?: () => void;
  signal?: AbortSignal;
  /** No byte for this long: the connection is dropped and the fetch resumed. */
  stallMs?: number;
  attempts?: number;
}

export interface FetchBlobResult {
  /** The blob was already in the store. */
  existed: boolean;
  /** Bytes an earlier attempt had left in the ingest (resumed with Range). */
  resumedFrom: number;
}

export function ingestRefFor(digest: Digest): string {
  return `pull-${digest}`;
}

/** A blob whose bytes are not what its descriptor says: Docker's words, naming the layer. */
export class VerificationError extends InvalidParameterError {}

export async function fetchBlob(client: RegistryClient, ep: Endpoint, ref: Reference, desc: Descriptor, content: ContentStore, opts: FetchBlobOptions = {}): Promise<FetchBlobResult> {
  let w: ContentWriter;
  try {
    w = await content.openIngest(ingestRefFor(desc.digest), { expected: desc.digest });
  } catch (e) {
    if (e instanceof ContentExistsError) return { existed: true, resumedFrom: 0 };
    throw e;
  }
  const resumedFrom = w.offset;
  const attempts = opts.attempts ?? 5;
  const stallMs = opts.stallMs ?? 30_000;
  try {
    for (let attempt = 1; ; attempt++) {
      if (w.offset > desc.size) await w.truncate(0);
      if (w.offset === desc.size) break;
      try {
        await fetchInto(client, ep, ref, desc, w, opts, stallMs);
        break;
      } catch (e) {
        if (e instanceof VerificationError || e instanceof NotFoundError || opts.signal?.aborted || attempt >= attempts) throw e;
        // a connection that dropped or stalled: go again from the bytes we have
        await new Promise((r) => setTimeout(r, Math.min(2000, 200 * attempt)));
      }
    }
    opts.onVerify?.();
    try {
      await w.commit(desc.size, desc.digest);
    } catch (e) {
      if (e instanceof InvalidParameterError) throw new VerificationError(`filesystem layer verification failed for digest ${desc.digest}`, { cause: e });
      throw e;
    }
    return { existed: false, resumedFrom };
  } catch (e) {
    // keeps a named ingest's bytes for the next attempt (a no-op after commit)
    await w.close().catch(() => undefined);
    if (e instanceof VerificationError) await content.abortIngest(ingestRefFor(desc.digest)).catch(() => undefined);
    throw e;
  }
}

async function fetchInto(client: RegistryClient, ep: Endpoint, ref: Reference, desc: Descriptor, w: ContentWriter, opts: FetchBlobOptions, stallMs: number): Promise<void> {
  const offset = w.offset;
  const headers: Record<string, string> = offset > 0 ? { Range: `bytes=${offset}-` } : {};
  const res = await client.request(ep.host, 'GET', `/v2/${ref.path}/blobs/${desc.digest}`, {
    scopes: [`repository:${ref.path}:pull`], creds: opts.creds, headers, signal: opts.signal,
  });
  if (res.status === 206) {
    const m = /^bytes (\d+)-/.exec(String(res.headers['content-range'] ?? ''));
    if (!m || Number(m[1]) !== offset) {
      res.body.destroy();
      await w.truncate(0);
      throw new UnavailableError(`registry answered range ${res.headers['content-range']} for bytes=${offset}-`);
    }
  } else if (res.status === 200) {
    if (offset > 0) await w.truncate(0);
  } else if (res.status === 416) {
    res.body.resume();
    await w.truncate(0);
    throw new UnavailableError(`registry refused range bytes=${offset}- of ${desc.digest}`);
  } else {
    const text = await res.text().catch(() => '');
    if (res.status === 404) throw new NotFoundError(`blob ${desc.digest} not found in ${ref.domain}/${ref.path}: ${registryErrorText(text) ?? 'blob unknown'}`);
    throw new UnavailableError(`error fetching blob ${desc.digest} from ${ep.host}: ${res.status} ${registryErrorText(text) ?? ''}`.trim());
  }
  opts.onProgress?.(w.offset, desc.size);
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => res.body.destroy(new UnavailableError(`blob ${desc.digest}: no data for ${stallMs} ms`)), stallMs);
  };
  arm();
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      arm();
      if (w.offset + chunk.length > desc.size) {
        res.body.destroy();
        await w.truncate(0);
        throw new VerificationError(`filesystem layer verification failed for digest ${desc.digest}: more than the ${desc.size} bytes its descriptor says`);
      }
      await w.write(chunk);
      opts.onProgress?.(w.offset, desc.size);
    }
  } catch (e) {
    if (e instanceof VerificationError) throw e;
    throw new UnavailableError(`fetching blob ${desc.digest}: ${errorMessage(e)}`, { cause: e });
  } finally {
    clearTimeout(timer);
  }
  if (w.offset < desc.size) throw new UnavailableError(`blob ${desc.digest}: connection closed after ${w.offset} of ${desc.size} bytes`);
}
