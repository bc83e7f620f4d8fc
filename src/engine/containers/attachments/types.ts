// A container's attachments: what the daemon sets up around a container's task (its /etc
// files today; network endpoints, volumes and hooks later), each an async, failable step.
//
//   prepare    before the runtime creates the task; a failure aborts the start with that error,
//              and what the attachments before it prepared is released ('abort'), in reverse order
//   release    at the task's exit ('exit') and at removal ('remove'); idempotent: a removal
//              releases again what the exit released, and a daemon restart may repeat either
//   reconcile  at daemon start, once the records are matched with what runs: keep what the
//              running containers use, remove what is left of any other
//
// Adding one is a file implementing Attachment and a line in ./index.ts.
import type { MountSpec } from '../../../runtime/types';
import type { ContainerRecord } from '../Container';

/** Where an attachment may keep per-container state: the container's directory under the data root. */
export interface AttachmentScope {
  readonly containerDir: string;
  /** At prepare: what the attachments before this one prepared (the network's for etc-files). */
  readonly prepared?: Readonly<MergedPrepared>;
}

/** What a prepared attachment adds to the container's runtime spec. */
export interface Prepared {
  mounts?: MountSpec[];
  /** The network namespace the runtime joins (the network attachment's; none: a private one). */
  netnsPath?: string;
  /** Lines for /etc/hosts (the container's address and name, links). */
  hosts?: string[];
  /** resolv.conf's nameservers instead of the host's (the embedded DNS of user networks). */
  nameservers?: string[];
  /** Environment variables for the task (links' ALIAS_PORT_..., ALIAS_NAME). */
  env?: string[];
  /** The host's address as the container sees it (`--add-host NAME:host-gateway`). */
  hostGateway?: string;
}

/** Every attachment's Prepared, merged in order. */
export interface MergedPrepared {
  mounts: MountSpec[];
  hosts: string[];
  env: string[];
  netnsPath?: string;
  nameservers?: string[];
  hostGateway?: string;
}

export type ReleaseReason = 'exit' | 'remove' | 'abort';

export interface ReconcileInput {
  /** Containers whose task runs (adopted at this start): what they use is kept. */
  running: ContainerRecord[];
  /** Every other known container (created, exited, dead). */
  stopped: ContainerRecord[];
  scope(c: ContainerRecord): AttachmentScope;
}

export interface Attachment {
  /** Names the attachment in errors and logs ("etc-files", "network", ...). */
  readonly name: string;
  prepare(c: ContainerRecord, scope: AttachmentScope): Promise<Prepared>;
  release(c: ContainerRecord, scope: AttachmentScope, reason: ReleaseReason): Promise<void>;
  reconcile(input: ReconcileInput): Promise<void>;
}
