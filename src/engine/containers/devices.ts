// HostConfig.Devices (`--device /dev/X[:/dev/Y][:rwm]`) and DeviceCgroupRules
// (`--device-cgroup-rule 'c 7:128 rwm'`) as runtime input: the nodes made in the container
// and the device cgroup rules that let it use them. A host path that is a directory brings
// every device node below it (as Docker's `--device /dev/snd`). `--privileged` (the host's
// devices, every rule) is the runtime spec's.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidParameterError } from '../../lib/errors';
import type { DeviceNode, DeviceRule } from '../../runtime/types';
import type { ContainerRecord } from './Container';

export interface DeviceMapping { PathOnHost: string; PathInContainer?: string; CgroupPermissions?: string }

const RULE = /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/;
const PERMISSIONS = /^[rwm]{1,3}$/;

/** One `--device-cgroup-rule` (Docker's syntax and error text). */
export function parseDeviceCgroupRule(rule: string): DeviceRule {
  const m = RULE.exec(rule.trim());
  if (!m) throw new InvalidParameterError(`invalid device cgroup format '${rule}'`);
  const num = (v: string) => (v === '*' ? undefined : Number(v));
  const out: DeviceRule = { allow: true, access: m[4] };
  if (m[1] !== 'a') out.type = m[1] as 'c' | 'b';
  const major = num(m[2]);
  const minor = num(m[3]);
  if (major !== undefined) out.major = major;
  if (minor !== undefined) out.minor = minor;
  return out;
}

function mappings(c: ContainerRecord): DeviceMapping[] {
  return ((c.HostConfig as { Devices?: DeviceMapping[] | null }).Devices ?? []);
}

/** What can be checked when the container is created: the rules' syntax and the permissions. */
export function validateDevices(c: ContainerRecord): void {
  for (const r of (c.HostConfig as { DeviceCgroupRules?: string[] | null }).DeviceCgroupRules ?? []) parseDeviceCgroupRule(r);
  for (const d of mappings(c)) {
    if (!d.PathOnHost) throw new InvalidParameterError('invalid device mapping: PathOnHost is empty');
    if (d.CgroupPermissions && !PERMISSIONS.test(d.CgroupPermissions)) {
      throw new InvalidParameterError(`invalid device mode: ${d.CgroupPermissions}`);
    }
    if (d.PathInContainer && !d.PathInContainer.startsWith('/')) {
      throw new InvalidParameterError(`invalid device mapping: ${d.PathInContainer} is not an absolute path`);
    }
  }
}

function devMajor(rdev: bigint): number { return Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn)); }
function devMinor(rdev: bigint): number { return Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn)); }

function nodeOf(st: fs.BigIntStats, inContainer: string): DeviceNode | undefined {
  if (!st.isCharacterDevice() && !st.isBlockDevice()) return undefined;
  return {
    path: inContainer, type: st.isCharacterDevice() ? 'c' : 'b', major: devMajor(st.rdev), minor: devMinor(st.rdev),
    fileMode: Number(st.mode & 0o777n), uid: Number(st.uid), gid: Number(st.gid),
  };
}

/** Device nodes under a host directory, mapped below `inContainer`. */
function nodesBelow(dir: string, inContainer: string): DeviceNode[] {
  const out: DeviceNode[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const hostPath = path.join(dir, e.name);
    const target = path.posix.join(inContainer, e.name);
    if (e.isDirectory()) { out.push(...nodesBelow(hostPath, target)); continue; }
    const st = fs.lstatSync(hostPath, { bigint: true });
    const n = nodeOf(st, target);
    if (n) out.push(n);
  }
  return out;
}

/** The nodes and rules of a container's Devices and DeviceCgroupRules (read from the host at each start). */
export function devicesOf(c: ContainerRecord): { devices: DeviceNode[]; rules: DeviceRule[] } {
  const devices: DeviceNode[] = [];
  const rules: DeviceRule[] = [];
  for (const d of mappings(c)) {
    const inContainer = d.PathInContainer || d.PathOnHost;
    const access = d.CgroupPermissions || 'rwm';
    let st: fs.BigIntStats;
    try {
      st = fs.statSync(d.PathOnHost, { bigint: true });
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message;
      throw new InvalidParameterError(`error gathering device information while adding custom device "${d.PathOnHost}": ${why}`);
    }
    const nodes = st.isDirectory() ? nodesBelow(d.PathOnHost, inContainer) : [nodeOf(st, inContainer)].filter((n): n is DeviceNode => !!n);
    if (nodes.length === 0) {
      throw new InvalidParameterError(`error gathering device information while adding custom device "${d.PathOnHost}": not a device node`);
    }
    for (const n of nodes) {
      devices.push(n);
      rules.push({ allow: true, type: n.type, major: n.major, minor: n.minor, access });
    }
  }
  for (const r of (c.HostConfig as { DeviceCgroupRules?: string[] | null }).DeviceCgroupRules ?? []) rules.push(parseDeviceCgroupRule(r));
  return { devices, rules };
}
