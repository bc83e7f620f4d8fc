// Docker's seccomp profile format -> the OCI runtime spec's linux.seccomp, resolved for one
// container: the rules whose includes/excludes (capabilities, architecture, kernel version)
// do not hold are dropped, archMap becomes the native architecture and its sub-architectures.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as zlib from 'node:zlib';
import { InvalidParameterError } from '../lib/errors';
import { orderForLibseccomp } from './seccompOrder';

export interface DockerSeccompArg { index: number; value: number; valueTwo?: number; op: string }
export interface DockerSeccompFilter { caps?: string[]; arches?: string[]; minKernel?: string }
export interface DockerSeccompRule {
  name?: string;
  names?: string[];
  action: string;
  errnoRet?: number;
  args?: DockerSeccompArg[] | null;
  comment?: string;
  includes?: DockerSeccompFilter;
  excludes?: DockerSeccompFilter;
}
export interface DockerSeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[] | null;
  archMap?: { architecture: string; subArchitectures: string[] | null }[] | null;
  listenerPath?: string;
  listenerMetadata?: string;
  flags?: string[] | null;
  syscalls?: DockerSeccompRule[] | null;
}

export interface OciSeccompRule { names: string[]; action: string; errnoRet?: number; args?: DockerSeccompArg[] }
export interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls: OciSeccompRule[];
}

/** What a profile is resolved against. */
export interface SeccompTarget {
  /** The container's capabilities (CAP_* names). */
  capabilities: readonly string[];
  /** Go's GOARCH name ("amd64", "arm64", ...), as Docker's profile arches are written. */
  arch?: string;
  /** "major.minor[.patch...]" of the running kernel. */
  kernel?: string;
  /** Whether the kernel runs x32 binaries (default: from its build config, see hasX32Abi). */
  x32?: boolean;
  /** Whether the kernel runs i386 binaries (default: from its config and command line, see hasIa32). */
  ia32?: boolean;
}

const GOARCH: Record<string, string> = { x64: 'amd64', ia32: '386', arm: 'arm', arm64: 'arm64', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', mips: 'mips', mipsel: 'mipsle' };
const NATIVE: Record<string, string> = {
  amd64: 'SCMP_ARCH_X86_64', '386': 'SCMP_ARCH_X86', arm64: 'SCMP_ARCH_AARCH64', arm: 'SCMP_ARCH_ARM', ppc64le: 'SCMP_ARCH_PPC64LE',
  s390x: 'SCMP_ARCH_S390X', riscv64: 'SCMP_ARCH_RISCV64', mips: 'SCMP_ARCH_MIPS', mipsle: 'SCMP_ARCH_MIPSEL',
};

export function hostGoArch(): string {
  return GOARCH[process.arch] ?? process.arch;
}

let kernelConfig: string | undefined;

/** The running kernel's build config ('' when neither /proc/config.gz nor /boot has it). */
function hostKernelConfig(): string {
  if (kernelConfig !== undefined) return kernelConfig;
  try {
    kernelConfig = zlib.gunzipSync(fs.readFileSync('/proc/config.gz')).toString('latin1');
  } catch {
    try { kernelConfig = fs.readFileSync(`/boot/config-${os.release()}`, 'latin1'); } catch { kernelConfig = ''; }
  }
  return kernelConfig;
}

/** Is CONFIG_<name> built in? undefined when the config is unknown or does not mention it. */
export function configSays(config: string, name: string): boolean | undefined {
  if (new RegExp(`^CONFIG_${name}=y`, 'm').test(config)) return true;
  if (new RegExp(`^# CONFIG_${name} is not set`, 'm').test(config)) return false;
  return undefined;
}

/**
 * Does this kernel have the x32 ABI (CONFIG_X86_X32_ABI)? When its build config says not, x32
 * calls cannot run at all, and leaving SCMP_ARCH_X32 out of a filter changes nothing but its
 * cost: runc compiles one filter per architecture at every start (about half of what the
 * default profile costs a start here, bench/seccomp.ts). Unknown config: assume it has.
 */
export function hasX32Abi(config: string): boolean {
  return (configSays(config, 'X86_X32_ABI') ?? configSays(config, 'X86_X32')) !== false;
}

/**
 * Does this kernel run i386 binaries? Not without CONFIG_IA32_EMULATION, nor when the boot
 * command line turns it off (ia32_emulation=, Linux 6.7), which CONFIG_IA32_EMULATION_DEFAULT_DISABLED
 * makes the default. Then SCMP_ARCH_X86 goes the way of x32, for the same reason.
 */
export function hasIa32(config: string, cmdline: string): boolean {
  if (configSays(config, 'IA32_EMULATION') === false) return false;
  const param = /(?:^|\s)ia32_emulation=(\S*)/.exec(cmdline)?.[1];
  if (param !== undefined) return !/^(?:0|n|no|off|false)$/i.test(param);
  return configSays(config, 'IA32_EMULATION_DEFAULT_DISABLED') !== true;
}

let compatAbis: { x32: boolean; ia32: boolean } | undefined;

/** Which of x86_64's compat ABIs this kernel runs (read once). */
export function hostCompatAbis(): { x32: boolean; ia32: boolean } {
  if (compatAbis) return compatAbis;
  const config = hostKernelConfig();
  let cmdline = '';
  try { cmdline = fs.readFileSync('/proc/cmdline', 'latin1'); } catch { /* none */ }
  compatAbis = { x32: hasX32Abi(config), ia32: hasIa32(config, cmdline) };
  return compatAbis;
}

/** Is kernel version `have` at least `want` (both "a.b[.c]", anything after a '-' ignored)? */
export function kernelAtLeast(have: string, want: string): boolean {
  const num = (v: string) => v.split('-')[0].split('.').map((x) => Number.parseInt(x, 10) || 0);
  const [h, w] = [num(have), num(want)];
  for (let i = 0; i < Math.max(h.length, w.length); i++) {
    if ((h[i] ?? 0) !== (w[i] ?? 0)) return (h[i] ?? 0) > (w[i] ?? 0);
  }
  return true;
}

/**
 * The last few profiles parsed, by their text: a container's own profile (the CLI sends the
 * file's JSON with every create) is parsed again at each of its starts, and the same object
 * back keeps toOciSeccomp's filters and their compiled programs (seccompBpf.ts) for it.
 */
const parsedProfiles = new Map<string, DockerSeccompProfile>();
const PARSED_PROFILES_KEPT = 8;

/**
 * Parses a profile as Docker reads one (the JSON of `--security-opt seccomp=<file>` or of
 * daemon.json's seccomp-profile), with Docker's wording for its refusals. The result is shared
 * between calls with the same text: do not change it.
 */
export function parseSeccompProfile(text: string): DockerSeccompProfile {
  let prof = parsedProfiles.get(text);
  if (prof) {
    parsedProfiles.delete(text); // the newest goes last, the oldest first out
  } else {
    prof = parseProfileText(text);
    if (parsedProfiles.size >= PARSED_PROFILES_KEPT) parsedProfiles.delete(parsedProfiles.keys().next().value as string);
  }
  parsedProfiles.set(text, prof);
  return prof;
}

function parseProfileText(text: string): DockerSeccompProfile {
  let p: unknown;
  try {
    p = JSON.parse(text);
  } catch (e) {
    throw new InvalidParameterError(`Decoding seccomp profile failed: ${(e as Error).message}`);
  }
  if (!p || typeof p !== 'object' || Array.isArray(p)) throw new InvalidParameterError('Decoding seccomp profile failed: the profile is not a JSON object');
  const prof = p as DockerSeccompProfile;
  if (typeof prof.defaultAction !== 'string' || !prof.defaultAction) throw new InvalidParameterError('Decoding seccomp profile failed: defaultAction is missing');
  if (prof.architectures?.length && prof.archMap?.length) {
    throw new InvalidParameterError("'architectures' and 'archMap' were specified in the seccomp profile, use either 'architectures' or 'archMap'");
  }
  if (prof.syscalls !== undefined && prof.syscalls !== null && !Array.isArray(prof.syscalls)) throw new InvalidParameterError('Decoding seccomp profile failed: syscalls is not a list');
  for (const r of prof.syscalls ?? []) {
    if (!r || typeof r !== 'object' || typeof r.action !== 'string') throw new InvalidParameterError('Decoding seccomp profile failed: a syscall rule has no action');
    if (r.name && r.names?.length) throw new InvalidParameterError("'name' and 'names' were specified in the seccomp profile, use either 'name' or 'names'");
    for (const n of [...(r.names ?? []), ...(r.name ? [r.name] : [])]) {
      if (typeof n !== 'string') throw new InvalidParameterError('Decoding seccomp profile failed: a syscall name is not a string');
    }
  }
  return prof;
}

function skipped(r: DockerSeccompRule, caps: ReadonlySet<string>, arch: string, kernel: string): boolean {
  const ex = r.excludes ?? {};
  if (ex.arches?.includes(arch)) return true;
  if (ex.caps?.some((c) => caps.has(c))) return true;
  if (ex.minKernel && kernelAtLeast(kernel, ex.minKernel)) return true;
  const inc = r.includes ?? {};
  if (inc.arches?.length && !inc.arches.includes(arch)) return true;
  if (inc.caps?.length && !inc.caps.every((c) => caps.has(c))) return true;
  if (inc.minKernel && !kernelAtLeast(kernel, inc.minKernel)) return true;
  return false;
}

/** The OCI linux.seccomp of `profile` for a container with `target`'s capabilities, its rules in the profile's order. */
export function resolveSeccomp(profile: DockerSeccompProfile, target: SeccompTarget): OciSeccomp {
  const arch = target.arch ?? hostGoArch();
  const kernel = target.kernel ?? os.release();
  const caps = new Set(target.capabilities);
  const out: OciSeccomp = { defaultAction: profile.defaultAction, syscalls: [] };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  if (profile.archMap?.length) {
    const native = NATIVE[arch];
    const archs: string[] = [];
    for (const a of profile.archMap) if (a.architecture === native) archs.push(a.architecture, ...(a.subArchitectures ?? []));
    if (archs.length) out.architectures = archs;
  } else if (profile.architectures?.length) {
    out.architectures = [...profile.architectures];
  }
  if (out.architectures && arch === 'amd64') {
    const x32 = target.x32 ?? hostCompatAbis().x32;
    const ia32 = target.ia32 ?? hostCompatAbis().ia32;
    out.architectures = out.architectures.filter((a) => (a !== 'SCMP_ARCH_X32' || x32) && (a !== 'SCMP_ARCH_X86' || ia32));
  }
  if (profile.flags?.length) out.flags = [...profile.flags];
  if (profile.listenerPath) out.listenerPath = profile.listenerPath;
  if (profile.listenerMetadata) out.listenerMetadata = profile.listenerMetadata;
  for (const r of profile.syscalls ?? []) {
    if (skipped(r, caps, arch, kernel)) continue;
    const rule: OciSeccompRule = { names: [...(r.names ?? []), ...(r.name ? [r.name] : [])], action: r.action };
    if (r.errnoRet !== undefined) rule.errnoRet = r.errnoRet;
    if (r.args?.length) rule.args = r.args.map((a) => ({ index: a.index, value: a.value, ...(a.valueTwo ? { valueTwo: a.valueTwo } : {}), op: a.op }));
    out.syscalls.push(rule);
  }
  return out;
}

/** Resolved and ordered filters per profile, by target: a daemon starts many containers of a few capability sets. */
const resolved = new WeakMap<DockerSeccompProfile, Map<string, OciSeccomp>>();

/**
 * resolveSeccomp, its rules in the order runc's libseccomp compiles fastest (seccompOrder.ts).
 * The result is shared between calls with the same profile and target: do not change it.
 */
export function toOciSeccomp(profile: DockerSeccompProfile, target: SeccompTarget): OciSeccomp {
  const key = JSON.stringify([[...target.capabilities].sort(), target.arch, target.kernel, target.x32, target.ia32]);
  let byTarget = resolved.get(profile);
  if (!byTarget) resolved.set(profile, (byTarget = new Map()));
  let out = byTarget.get(key);
  if (!out) {
    const rules = resolveSeccomp(profile, target);
    out = { ...rules, syscalls: orderForLibseccomp(rules.syscalls) };
    if (byTarget.size >= 64) byTarget.clear(); // bounded: capability sets are few, but come from the API
    byTarget.set(key, out);
  }
  return out;
}
