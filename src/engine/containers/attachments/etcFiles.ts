// The container's /etc/hostname, /etc/hosts and /etc/resolv.conf as an attachment: written
// into the container's directory before each start (the host's resolv.conf may have changed)
// and bind-mounted in.
import { containerFileMounts, writeContainerFiles } from '../files';
import type { Attachment } from './types';

export const etcFiles: Attachment = {
  name: 'etc-files',

  async prepare(c, scope) {
    await writeContainerFiles(scope.containerDir, c, scope.prepared);
    return { mounts: containerFileMounts(scope.containerDir, c.HostConfig.ReadonlyRootfs) };
  },

  async release() {
    // Past an exit (or an aborted start) the files stay, as Docker keeps them: inspect names
    // them and the next start rewrites them. They go with the container's directory, which the
    // removal takes away whole (ContainerStore.delete).
  },

  async reconcile() {
    // Nothing to collect: the files live in their container's directory until its removal (a
    // removal cut short is finished by the containers' reconcile, which releases 'remove'),
    // and each is rewritten in place at every start.
  },
};
