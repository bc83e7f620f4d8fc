// setns(2) for the calling thread. Node runs JS on one thread: switch, do the work
// synchronously, and switch back before returning to the event loop (never across an await).
import * as fs from 'node:fs';
import { loadNative } from './native';

export const CLONE_NEWNET = 0x40000000;
export const CLONE_NEWUTS = 0x04000000;
export const CLONE_NEWIPC = 0x08000000;

export function setns(fd: number, nstype = 0): void {
  loadNative().setns(fd, nstype);
}

/** Runs `fn` synchronously inside the network namespace at `nsPath` (e.g. /proc/<pid>/ns/net). */
export function withNetns<T>(nsPath: string, fn: () => T): T {
  const self = fs.openSync('/proc/thread-self/ns/net', 'r');
  const target = fs.openSync(nsPath, 'r');
  try {
    setns(target, CLONE_NEWNET);
    try {
      return fn();
    } finally {
      setns(self, CLONE_NEWNET);
    }
  } finally {
    fs.closeSync(target);
    fs.closeSync(self);
  }
}
