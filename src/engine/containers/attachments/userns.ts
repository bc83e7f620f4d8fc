// userns-remap, the container's side of it (after volumes and etc-files): what the remapped
// root must reach or own is given to it, as dockerd does. Its /etc files are chowned to it,
// its directory opened to its group (search only), and a named volume still owned by host root
// (new, or empty in the image) is handed to it, so that what it writes there lands on the host
// with its host ids. Released: the bound user namespace of its network namespace.
import * as fsp from 'node:fs/promises';
import { releaseRemappedUserns, remapOf, type RemapConfig } from '../../usernsRemap';
import { containerFiles } from '../files';
import type { Attachment } from './types';

export function usernsAttachment(remap: RemapConfig, execRoot: string): Attachment {
  return {
    name: 'userns',

    async prepare(c, scope) {
      const r = remapOf(c, remap);
      if (!r) return {};
      const { uid, gid } = r.root;
      await fsp.chown(scope.containerDir, 0, gid);
      const f = containerFiles(scope.containerDir);
      await Promise.all([f.hostname, f.hosts, f.resolvConf].map((p) => fsp.chown(p, uid, gid).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      })));
      for (const m of c.MountPoints ?? []) {
        if (m.Type !== 'volume' || !m.Source) continue;
        const data = m.Source;
        const st = await fsp.stat(data).catch(() => undefined);
        if (st && st.uid === 0 && st.gid === 0) await fsp.chown(data, uid, gid);
      }
      return {};
    },

    // The user namespace the network attachment's namespace was made in (usernsRemap.ts).
    async release(c) {
      await releaseRemappedUserns(execRoot, c.Id);
    },
    async reconcile({ stopped }) {
      await Promise.all(stopped.map((c) => releaseRemappedUserns(execRoot, c.Id)));
    },
  };
}
