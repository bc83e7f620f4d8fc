// The two tools berth drives: iproute2 (`ip -batch -`, many link/addr/route steps in one
// process) and nftables (`nft -f -`, one atomic transaction). One spawn per batch costs
// 2-5 ms here; a spawn per step would cost that per step. Spawned by posix_spawn off the event
// loop (lib/sys/spawn.ts), not by forking the daemon.
import * as fs from 'node:fs';
import { SystemError } from '../lib/errors';
import { type ProgramNetns, type ProgramResult, runProgram } from '../lib/sys/spawn';

export interface NetnsTarget {
  /** Make a new network namespace bound at this (existing, empty) file and run inside it. */
  create?: string;
  /** Run inside the namespace bound at this file. */
  enter?: string;
}

async function run(cmd: string, args: string[], input: string, netns?: ProgramNetns): Promise<void> {
  let r: ProgramResult;
  try {
    r = await runProgram(cmd, args, input, netns);
  } catch (e) {
    throw new SystemError(`${cmd}: ${(e as Error).message}`);
  }
  if (r.code !== 0) throw new SystemError(`${cmd} ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.code}`}`);
}

/** Runs iproute2 commands ("link add ...", one per line) in one process, optionally in a netns. */
export function ipBatch(lines: string[], ns: NetnsTarget = {}): Promise<void> {
  if (lines.length === 0) return Promise.resolve();
  const input = lines.join('\n') + '\n';
  // The namespace is made (bound to the file) or joined by the thread that spawns ip: one exec,
  // not unshare(1)'s or nsenter(1)'s and then ip's.
  if (ns.create) return run('ip', ['-batch', '-'], input, { path: ns.create, create: true });
  if (ns.enter) return run('ip', ['-batch', '-'], input, { path: ns.enter });
  return run('ip', ['-batch', '-'], input);
}

/** Applies an nft script as one transaction: all of it or nothing. */
export function nft(script: string): Promise<void> {
  return run('nft', ['-f', '-'], script);
}

/** Writes a sysctl under /proc/sys (no spawn); a missing key is an error. */
export function sysctl(key: string, value: string): void {
  fs.writeFileSync(`/proc/sys/${key.replace(/\./g, '/')}`, value);
}

export function linkExists(name: string): boolean {
  return fs.existsSync(`/sys/class/net/${name}`);
}
