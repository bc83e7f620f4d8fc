// The attachments every container gets, in the order they are prepared (released in reverse).
// A new one (network endpoints, volumes, hooks) is a file and a line here.
import { etcFiles } from './etcFiles';
import { JOURNAL_ENV, journalAttachment } from './journal';
import type { Attachment } from './types';
import { volumesAttachment, type VolumesAttachmentDeps } from './volumes';
import { usernsAttachment } from './userns';
import type { RemapConfig } from '../../usernsRemap';

export interface AttachmentDeps {
  volumes?: VolumesAttachmentDeps;
  network?: Attachment;
  /** The daemon's userns-remap (absent: off) and where the namespaces it makes are bound. */
  remap?: { config: RemapConfig; execRoot: string };
}

export function containerAttachments(env: NodeJS.ProcessEnv = process.env, deps: AttachmentDeps = {}): Attachment[] {
  // The network first: etc-files writes what it prepared (address, resolvers). Volumes before
  // etc-files: the /etc files are mounted over whatever a volume puts at /etc.
  const list: Attachment[] = [
    ...(deps.network ? [deps.network] : []),
    ...(deps.volumes ? [volumesAttachment(deps.volumes)] : []),
    etcFiles,
    // Last: it hands what the others made to the remapped root.
    ...(deps.remap ? [usernsAttachment(deps.remap.config, deps.remap.execRoot)] : []),
  ];
  // The test seam (journal.ts): only when berthd's environment names a journal directory.
  const journal = env[JOURNAL_ENV];
  if (journal) return [journalAttachment('journal-first', journal), ...list, journalAttachment('journal-last', journal)];
  return list;
}
