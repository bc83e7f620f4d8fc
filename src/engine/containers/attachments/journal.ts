// A test seam, not a feature. With BERTH_TEST_ATTACHMENT_JOURNAL=<dir> in berthd's environment,
// two journal attachments surround the real ones ("journal-first" before, "journal-last" after),
// so tests can see the order and the moments of every step on real containers:
//   <dir>/journal        one line per step: "<name> prepare <id>", "<name> release <id> <reason>",
//                        "<name> reconcile keep=<ids,...> drop=<ids,...>"
//   <dir>/held/<name>.<id>  exists from prepare to release (what "the container uses")
// A container labelled berth.test.fail-prepare=<name> makes that attachment's prepare fail.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Attachment } from './types';

export const JOURNAL_ENV = 'BERTH_TEST_ATTACHMENT_JOURNAL';
export const FAIL_LABEL = 'berth.test.fail-prepare';

export function journalAttachment(name: string, dir: string): Attachment {
  const held = path.join(dir, 'held');
  const note = (line: string) => fsp.appendFile(path.join(dir, 'journal'), line + '\n');
  const heldFile = (id: string) => path.join(held, `${name}.${id}`);
  return {
    name,
    async prepare(c) {
      if (c.Config.Labels?.[FAIL_LABEL] === name) {
        await note(`${name} prepare-failed ${c.Id}`);
        throw new Error(`prepare failed as the container's ${FAIL_LABEL} label asks`);
      }
      await fsp.mkdir(held, { recursive: true });
      await fsp.writeFile(heldFile(c.Id), '');
      await note(`${name} prepare ${c.Id}`);
      return {};
    },
    async release(c, _scope, reason) {
      await fsp.rm(heldFile(c.Id), { force: true });
      await note(`${name} release ${c.Id} ${reason}`);
    },
    async reconcile({ running }) {
      const keep = new Set(running.map((c) => c.Id));
      const prefix = `${name}.`;
      const files = (await fsp.readdir(held).catch(() => [] as string[])).filter((f) => f.startsWith(prefix));
      const drop = files.map((f) => f.slice(prefix.length)).filter((id) => !keep.has(id));
      await Promise.all(drop.map((id) => fsp.rm(heldFile(id), { force: true })));
      await note(`${name} reconcile keep=${[...keep].join(',')} drop=${drop.join(',')}`);
    },
  };
}
