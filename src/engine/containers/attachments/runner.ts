// Applies a container's attachments in their order: prepare forwards (undoing on failure),
// release backwards, reconcile each on its own.
import { BerthError, SystemError, errorMessage } from '../../../lib/errors';
import { log } from '../../../lib/log';
import { span } from '../../../lib/trace';
import type { ContainerRecord } from '../Container';
import type { Attachment, AttachmentScope, MergedPrepared, Prepared, ReleaseReason } from './types';

export class AttachmentRunner {
  constructor(
    private readonly attachments: readonly Attachment[],
    private readonly scopeOf: (id: string) => AttachmentScope,
  ) {}

  /**
   * Prepares every attachment in order and merges what they add. On a failure the ones
   * already prepared are released ('abort') in reverse order, and the failure is thrown with
   * the attachment's name, keeping its kind (a BerthError's) or as a SystemError.
   */
  async prepare(c: ContainerRecord): Promise<MergedPrepared> {
    const scope = this.scopeOf(c.Id);
    const done: Attachment[] = [];
    const out: MergedPrepared = { mounts: [], hosts: [], env: [] };
    for (const a of this.attachments) {
      let p: Prepared;
      try {
        p = await span(`prepare.${a.name}`, c.Id, () => a.prepare(c, { ...scope, prepared: out }));
      } catch (e) {
        await this.releaseEach(done.reverse(), c, scope, 'abort');
        const msg = `${a.name}: ${errorMessage(e)}`;
        throw e instanceof BerthError ? new BerthError(e.kind, msg, { cause: e }) : new SystemError(msg, { cause: e });
      }
      done.push(a);
      out.mounts.push(...(p.mounts ?? []));
      out.hosts.push(...(p.hosts ?? []));
      out.env.push(...(p.env ?? []));
      if (p.netnsPath) out.netnsPath = p.netnsPath;
      if (p.nameservers) out.nameservers = p.nameservers;
      if (p.hostGateway) out.hostGateway = p.hostGateway;
    }
    return out;
  }

  /** Releases every attachment, last first; a failure is logged and the others still run. */
  async release(c: ContainerRecord, reason: ReleaseReason): Promise<void> {
    await this.releaseEach([...this.attachments].reverse(), c, this.scopeOf(c.Id), reason);
  }

  /** At daemon start: each attachment keeps what the running containers use and drops the rest. */
  async reconcile(all: ContainerRecord[]): Promise<void> {
    const running = all.filter((c) => c.State.Running && !c.State.Restarting);
    const stopped = all.filter((c) => !running.includes(c));
    const input = { running, stopped, scope: (c: ContainerRecord) => this.scopeOf(c.Id) };
    for (const a of this.attachments) {
      await a.reconcile(input).catch((e) => log.error('attachment reconcile failed', { attachment: a.name, error: errorMessage(e) }));
    }
  }

  private async releaseEach(list: Attachment[], c: ContainerRecord, scope: AttachmentScope, reason: ReleaseReason): Promise<void> {
    for (const a of list) {
      await span(`release.${a.name}`, c.Id, () => a.release(c, scope, reason)).catch((e) => log.warn('attachment release failed', { id: c.Id, attachment: a.name, reason, error: errorMessage(e) }));
    }
  }
}
