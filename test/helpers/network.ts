// Shared by the network test files: a daemon with busybox, debian and nginx for the whole file,
// checked for network leftovers (veths, bridges, netns, port maps) once it has stopped; and
// docker commands that must succeed.
import * as assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { startDaemon, type TestDaemon } from './daemon';
import { loadDebianImages } from './images';

export function useNetworkDaemon(set: (d: TestDaemon) => void): void {
  let d: TestDaemon | undefined;
  before(async () => {
    d = await startDaemon();
    await d.ensureBusybox();
    await loadDebianImages(d);
    set(d);
  });
  after(async () => {
    if (!d) return;
    await d.stop();
    assert.deepEqual(d.leaks, [], 'network leftovers after the daemon stopped');
  });
}

/** TestDaemon.dockerOk, stdout trimmed. */
export async function dockerOk(d: TestDaemon, args: string[], timeout = 60_000): Promise<string> {
  return (await d.dockerOk(args, { timeout })).trim();
}

export async function inspectOf(d: TestDaemon, id: string): Promise<any> {
  return JSON.parse(await dockerOk(d, ['inspect', id]))[0];
}
