// The build cache: step key -> the image the step produced. One record per key under
// <data-root>/builder/cache/, written atomically (temp + fsync + rename), so it survives a
// restart and a crash leaves a record whole or absent. A record whose image is gone is a miss
// (and is dropped).
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { sha256, digestHex, type Digest } from '../../lib/digest';
import { readJsonIfExists, writeJsonAtomic } from '../../lib/atomic';

export interface CacheRecord {
  image: Digest;
  created: string;
}

/** What identifies a step: the image it starts from, what it does, what it reads. */
export interface StepKey {
  parent: Digest | null;
  /** The instruction with the args it uses, as it is recorded in the image (created_by). */
  createdBy: string;
  /** The resulting run config (for metadata steps: what they change). */
  config?: unknown;
  /** COPY/ADD: checksum of the copied files' content and metadata. */
  sources?: string;
  /** Anything else that changes the result (platform, network-independent options). */
  extra?: unknown;
}

export function stepKey(k: StepKey): string {
  return digestHex(sha256(JSON.stringify([k.parent, k.createdBy, k.config ?? null, k.sources ?? null, k.extra ?? null])));
}

export class BuildCache {
  private readonly dir: string;
  constructor(dataRoot: string) {
    this.dir = path.join(dataRoot, 'builder', 'cache');
  }

  async get(key: string, exists: (id: Digest) => boolean): Promise<Digest | undefined> {
    const file = path.join(this.dir, `${key}.json`);
    const rec = await readJsonIfExists<CacheRecord>(file).catch(() => undefined);
    if (!rec || typeof rec.image !== 'string') return undefined;
    if (!exists(rec.image)) {
      await fsp.rm(file, { force: true });
      return undefined;
    }
    return rec.image;
  }

  async put(key: string, image: Digest): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true });
    await writeJsonAtomic(path.join(this.dir, `${key}.json`), { image, created: new Date().toISOString() } satisfies CacheRecord, 0o600, 'record');
  }

  /** Daemon start: temp files a crash left (writeJsonAtomic's) go. */
  async reconcile(): Promise<void> {
    const names = await fsp.readdir(this.dir).catch(() => [] as string[]);
    for (const n of names) if (!n.endsWith('.json')) await fsp.rm(path.join(this.dir, n), { force: true });
  }
}
