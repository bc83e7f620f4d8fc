// The daemon's blob downloads: at most `concurrency` at once (Docker's max-concurrent-downloads,
// 3), and one download per digest however many pulls want it: a second pull of a blob in flight
// joins the first and sees its progress; a blob already in the content store is not fetched.
import type { Digest } from '../lib/digest';
import type { Reference } from '../lib/reference';
import type { ContentStore } from '../store/content/types';
import type { AuthConfig } from './auth';
import { fetchBlob, type FetchBlobResult } from './blobs';
import type { RegistryClient } from './client';
import type { Descriptor } from './manifests';
import type { Endpoint } from './resolver';

export type DownloadEvent =
  | { type: 'waiting' }
  | { type: 'progress'; current: number; total: number }
  | { type: 'verifying' }
  | { type: 'complete' };

export type DownloadListener = (e: DownloadEvent) => void;

interface Shared {
  done: Promise<FetchBlobResult>;
  listeners: Set<DownloadListener>;
  last?: DownloadEvent;
}

/** A counting semaphore in arrival order. */
class Slots {
  private free: number;
  private readonly queue: (() => void)[] = [];
  constructor(n: number) { this.free = Math.max(1, n); }
  get available(): boolean { return this.free > 0; }
  async take(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.queue.push(r));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.queue.shift();
      if (next) next(); else this.free++;
    };
  }
}

export interface DownloadRequest {
  endpoint: Endpoint;
  ref: Reference;
  desc: Descriptor;
  creds?: AuthConfig;
}

export class BlobDownloads {
  private readonly active = new Map<Digest, Shared>();
  private readonly slots: Slots;
  /** Downloads started (not joined) since the daemon started, per digest: what tests and the bench count. */
  readonly started = new Map<Digest, number>();

  constructor(private readonly client: RegistryClient, private readonly content: ContentStore, concurrency = 3) {
    this.slots = new Slots(concurrency);
  }

  /** Fetches `req.desc` into the content store, or joins the download of it in flight. */
  async fetch(req: DownloadRequest, listener?: DownloadListener): Promise<FetchBlobResult> {
    const digest = req.desc.digest;
    let s = this.active.get(digest);
    if (!s) {
      if (await this.content.exists(digest)) return { existed: true, resumedFrom: 0 };
      s = this.active.get(digest);
    }
    if (s) {
      if (listener) {
        s.listeners.add(listener);
        if (s.last) listener(s.last);
      }
      try {
        return await s.done;
      } finally {
        if (listener) s.listeners.delete(listener);
      }
    }
    const shared: Shared = { listeners: new Set(listener ? [listener] : []), done: undefined as unknown as Promise<FetchBlobResult> };
    const emit = (e: DownloadEvent) => {
      shared.last = e;
      for (const l of shared.listeners) l(e);
    };
    shared.done = (async () => {
      if (!this.slots.available) emit({ type: 'waiting' });
      const release = await this.slots.take();
      try {
        this.started.set(digest, (this.started.get(digest) ?? 0) + 1);
        const r = await fetchBlob(this.client, req.endpoint, req.ref, req.desc, this.content, {
          creds: req.creds,
          onProgress: (current, total) => emit({ type: 'progress', current, total }),
          onVerify: () => emit({ type: 'verifying' }),
        });
        emit({ type: 'complete' });
        return r;
      } finally {
        release();
        this.active.delete(digest);
      }
    })();
    this.active.set(digest, shared);
    return shared.done;
  }
}
